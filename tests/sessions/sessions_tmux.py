"""A tmux pane on a private server, as the reference terminal for fidelity tests."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid
from pathlib import Path


def have_tmux() -> bool:
    return shutil.which("tmux") is not None


class TmuxPane:
    """One 120x40 pane on its own tmux server (`-L`), TERM=xterm-256color, no status line.

    The command must outlive the checks (callers end it with a `sleep`); when it ends, the
    server ends too, so a test killed half-way leaves no tmux server running for long."""

    def __init__(self, argv: list[str], cwd: Path, cols: int = 120, rows: int = 40) -> None:
        self.socket = f"gastown-test-{uuid.uuid4().hex[:10]}"
        self.conf = Path(cwd) / f".{self.socket}.conf"
        self.conf.write_text(
            "set -g default-terminal xterm-256color\nset -g status off\nset -g escape-time 0\n"
            "set -g history-limit 10000\n"
        )
        self._tmux("-f", str(self.conf), "new-session", "-d", "-x", str(cols), "-y", str(rows), "-s", "t",
                   "-c", str(cwd), shlex.join(argv))

    def _tmux(self, *args: str, capture: bool = False) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10,
                             env={**os.environ, "TMUX": ""})
        if out.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout

    def send(self, data: bytes) -> None:
        """The same bytes our session receives, through `send-keys -H`."""
        if data:
            self._tmux("send-keys", "-t", "t", "-H", *[f"{b:02x}" for b in data])

    def lines(self) -> list[str]:
        text = self._tmux("capture-pane", "-p", "-t", "t")
        rows = [line.rstrip() for line in text.split("\n")]
        while len(rows) > 40 and rows[-1] == "":
            rows.pop()
        return rows + [""] * (40 - len(rows))

    def cursor(self) -> tuple[int, int]:
        """(x, y). While a wrap is pending tmux reports x == width; xterm and ghostty keep the
        cursor on the last column (with a pending-wrap flag), so x is clamped to the last column."""
        x, y, w = self._tmux("display", "-p", "-t", "t", "#{cursor_x} #{cursor_y} #{pane_width}").split()
        return min(int(x), int(w) - 1), int(y)

    def wait_stable(self, quiet: float = 0.4, limit: float = 8.0) -> list[str]:
        deadline = time.monotonic() + limit
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            cur = (self.lines(), self.cursor())
            if cur != last:
                last, since = cur, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
            time.sleep(0.05)
        return last[0]

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)
        try:
            self.conf.unlink()
        except FileNotFoundError:
            pass
