"""A test agent: writes numbered lines at RATE bytes/s (0: none), and its terminal size at start and on
every SIGWINCH (`SIZE CxR`). Usage: python chatter.py RATE"""
import os
import signal
import sys
import time


def size(*_):
    sz = os.get_terminal_size(0)
    sys.stdout.write(f"\r\nSIZE {sz.columns}x{sz.lines}\r\n")
    sys.stdout.flush()


def main():
    rate = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
    signal.signal(signal.SIGWINCH, size)
    size()
    if rate <= 0:
        while True:
            signal.pause()
    n = 0
    tick = 0.02
    per_tick = max(1, int(rate * tick / 80))
    next_at = time.monotonic()
    while True:
        lines = []
        for _ in range(per_tick):
            lines.append(f"n={n:010d} " + "x" * 64 + "\r\n")
            n += 1
        sys.stdout.write("".join(lines))
        sys.stdout.flush()
        next_at += tick
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_at = time.monotonic()


if __name__ == "__main__":
    main()
