"""A raw PTY driver for the agent tests: pexpect + the project's VT screen.

One reader thread feeds the program's output to `gastown_tui.sessions.vt`
(answering its terminal queries, as a real terminal would) and keeps the raw
bytes; tests wait on the rendered screen or the window title, never on raw
chunks (Ink and ratatui redraw only what changed).
"""
from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path

import pexpect

from gastown_tui.sessions.vt import new_screen


class Agent:
    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str], cols: int = 120, rows: int = 40,
                 log: Path | None = None):
        self.argv = argv
        self.screen = new_screen(cols=cols, rows=rows)
        self.raw = bytearray()
        self.osc: list[tuple[int, str]] = []
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self.child = pexpect.spawn(argv[0], argv[1:], cwd=str(cwd), env=env, dimensions=(rows, cols),
                                   echo=False, encoding=None)
        self.screen.on_reply = self._reply
        self.screen.on_osc = lambda n, payload: self.osc.append((n, payload))
        self.log = log
        self._reader = threading.Thread(target=self._read, daemon=True, name=f"pty-{argv[0]}")
        self._reader.start()

    # output
    def _reply(self, data: bytes) -> None:
        try:
            os.write(self.child.child_fd, data)
        except OSError:
            pass

    def _read(self) -> None:
        while True:
            try:
                data = self.child.read_nonblocking(65536, timeout=0.2)
            except pexpect.TIMEOUT:
                continue
            except (pexpect.EOF, OSError, ValueError):
                break
            with self._lock:
                self.raw += data
                self.screen.feed(data)
                self._changed.notify_all()
        with self._lock:
            self._changed.notify_all()
        if self.log:
            self.log.write_bytes(bytes(self.raw))

    @property
    def alive(self) -> bool:
        return self.child.isalive()

    def text(self) -> str:
        with self._lock:
            return self.screen.text()

    def lines(self) -> list[str]:
        with self._lock:
            return self.screen.lines()

    @property
    def title(self) -> str:
        with self._lock:
            return self.screen.title

    def wait(self, pattern: str | None = None, timeout: float = 30.0, title: str | None = None,
             where: str = "screen", gone: bool = False) -> re.Match | None:
        """Waits until `pattern` matches the screen (or `title` the window title); with `gone`,
        until it no longer does. AssertionError with the screen shown otherwise."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern or title or "", re.M | re.S)
        with self._changed:
            while True:
                hay = self.screen.title if title else self.screen.text()
                m = rx.search(hay)
                if (m is None) == gone:
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or (not self._reader.is_alive() and not gone):
                    what = f"title {title!r}" if title else f"{pattern!r}"
                    raise AssertionError(
                        f"{self.argv[0]}: {'still' if gone else 'no'} {what} after {timeout}s "
                        f"(alive={self.alive}); title={self.screen.title!r}; screen:\n{self.screen.text()}")
                self._changed.wait(min(left, 0.5))

    def wait_idle_output(self, quiet: float = 0.5, timeout: float = 10.0) -> None:
        """Waits until no output arrived for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        n = -1
        while time.monotonic() < deadline:
            with self._lock:
                cur = len(self.raw)
            if cur == n:
                return
            n = cur
            time.sleep(quiet)

    # input
    def send(self, data: str | bytes) -> None:
        self.child.send(data.encode() if isinstance(data, str) else data)

    def type_line(self, text: str, enter: str = "\r", pause: float = 0.4) -> None:
        """Types text, waits until its end shows on screen (some CLIs read an Enter that arrives
        with a burst of text as a pasted newline), then presses Enter."""
        self.send(text)
        tail = re.escape(text[-12:])
        try:
            self.wait(tail, timeout=5)
        except AssertionError:
            pass  # not every CLI echoes everything (e.g. a hidden slash menu); Enter anyway
        time.sleep(pause)
        self.send(enter)

    # end
    def close(self, grace: float = 3.0) -> int | None:
        """Ends the program and its process group; returns its exit status."""
        if self.child.isalive():
            try:
                os.killpg(self.child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            end = time.monotonic() + grace
            while self.child.isalive() and time.monotonic() < end:
                time.sleep(0.05)
            if self.child.isalive():
                try:
                    os.killpg(self.child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            self.child.close(force=True)
        except Exception:
            pass
        self._reader.join(timeout=2)
        return self.child.exitstatus if self.child.exitstatus is not None else self.child.signalstatus

    def wait_exit(self, timeout: float = 15.0) -> bool:
        end = time.monotonic() + timeout
        while self.child.isalive() and time.monotonic() < end:
            time.sleep(0.05)
        return not self.child.isalive()
