"""Runs `gastown web` as a real subprocess on a free port and stops it like a person would (Ctrl+C)."""
from __future__ import annotations

import os
import re
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil


class WebRun:
    def __init__(self, town: Path, *extra: str, env: dict | None = None) -> None:
        self.argv = [sys.executable, "-m", "gastown_tui.cli", "web", "--town", str(town), "--port", "0", *extra]
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.url = ""       # with the token
        self.base = ""      # without it
        self.token = ""
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()

    def __enter__(self) -> "WebRun":
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=self.env, start_new_session=True, bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            found = re.match(r"open: (http://[^/]+)/\?token=(\S+)", line)
            if found:
                self.base, self.token = found.group(1), found.group(2)
                self.url = f"{self.base}/?token={self.token}"
                return self
        self.stop()
        raise AssertionError("gastown web never printed its address:\n" + "\n".join(self.lines))

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self._queue.put(line)

    def app_processes(self) -> list[psutil.Process]:
        """The `gastown app` processes the tabs started (children of the server)."""
        try:
            children = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        out = []
        for child in children:
            try:
                if "gastown_tui.cli" in child.cmdline() and "app" in child.cmdline():
                    out.append(child)
            except psutil.Error:
                pass
        return out

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self._reader.join(10)
        return self.proc.returncode

    def __exit__(self, *exc) -> None:
        self.stop()


def stop_town_server(town: Path) -> None:
    """`gastown web` starts the town server (`gastown up`): tests stop it again (`gastown down`, which succeeds
    when none runs). A `down` that fails (or is not a command) fails the test instead of leaving a server behind."""
    done = subprocess.run([sys.executable, "-m", "gastown_tui.cli", "down"], cwd=town,
                          env={**os.environ, "GT_TOWN": str(town)}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"`gastown down` failed (exit {done.returncode}): {(done.stderr or done.stdout)[-2000:]}"
