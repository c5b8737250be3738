"""A raw-mode program that ignores Enter pressed too soon after typing (like paste detection).

It echoes what is typed after a `> ` prompt. A CR that arrives within 0.3 s of
the last typed character is swallowed; a later CR submits the line (logged to
LOG). With `--never` every CR is swallowed: nothing can be submitted.
"""
import os
import sys
import termios
import time
import tty

log_path = sys.argv[1]
never = "--never" in sys.argv
fd = sys.stdin.fileno()
old = termios.tcgetattr(fd)
tty.setraw(fd)
out = sys.stdout
buf = ""
last_char = 0.0
try:
    out.write("SWALLOW TEST AGENT\r\n> ")
    out.flush()
    while True:
        data = os.read(fd, 1024).decode("utf-8", "replace")
        if not data:
            break
        for ch in data:
            if ch == "\x03":
                raise SystemExit(0)
            if ch == "\r":
                if never or time.time() - last_char < 0.3:
                    continue
                with open(log_path, "a", encoding="utf-8") as fh:
                    fh.write(buf + "\n")
                out.write(f"\r\nok: {buf[:40]}\r\n> ")
                buf = ""
            elif ch.isprintable():
                buf += ch
                last_char = time.time()
                out.write(ch)
        out.flush()
finally:
    termios.tcsetattr(fd, termios.TCSADRAIN, old)
