"""A tiny agent for keeper tests: prints `seq N` every 10 ms, N counting up from 0, forever.

A gap in its transcript (a missing N) means output was lost; a restart would start again at 0."""
import os
import sys
import time

n = 0
start = time.monotonic()
out = sys.stdout
out.write(f"counter pid {os.getpid()}\n")
while True:
    out.write(f"seq {n}\n")
    out.flush()
    n += 1
    time.sleep(max(0.0, start + n * 0.01 - time.monotonic()))
