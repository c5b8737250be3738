"""A small real program that behaves like a busy agent, for nudge tests.

Idle: a `> ` prompt on the cursor line. After each line it logs the line to
LOG, then works for a random 20-250 ms, drawing a spinner line that says
"esc to interrupt", prints `done: <line>` and shows the prompt again.
Typed text echoes through the tty even while it works, as with a real agent.
"""
import random
import sys
import time

log_path = sys.argv[1]
random.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
print("BUSY TEST AGENT")
while True:
    sys.stdout.write("> ")
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not line:
        break
    line = line.rstrip("\n")
    with open(log_path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    end = time.time() + random.uniform(0.02, 0.25)
    i = 0
    while time.time() < end:
        sys.stdout.write(f"\r{'|/-'[i % 3]} working ({i}) esc to interrupt")
        sys.stdout.flush()
        i += 1
        time.sleep(0.02)
    sys.stdout.write("\r\x1b[K")
    print(f"done: {line[:60]}")
