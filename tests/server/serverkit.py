"""Running a real town server (`gastown server --no-patrols`) for a test, and talking to it."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from gastown_tui.client.connection import Connection
from gastown_tui.server import paths

REPO = Path(__file__).resolve().parents[2]
CHATTER = Path(__file__).resolve().parent / "chatter.py"


def make_town(root: Path) -> Path:
    from gastown_tui.town.install import install_town

    install_town(root)
    return root.resolve()


class ServerProcess:
    def __init__(self, town: Path, *args: str, env: dict | None = None) -> None:
        self.town = Path(town)
        self.socket = paths.socket_path(str(self.town))
        self.log = self.town / ".runtime" / "test-server.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in (env or os.environ).items() if k not in ("GT_TOWN", "GT_AGENT", "GASTOWN_SOCKET")}
        with open(self.log, "ab") as fh:
            self.proc = subprocess.Popen([sys.executable, "-m", "gastown_tui.cli", "server", "--town", str(self.town),
                                          "--no-patrols", *args], stdout=fh, stderr=subprocess.STDOUT, env=env,
                                         cwd=str(self.town))
        self.pid = self.proc.pid

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}:\n{self.log.read_text()}")
            if os.path.exists(self.socket):
                if _ping(self.socket):
                    return
            time.sleep(0.05)
        raise AssertionError(f"server not ready after {timeout}s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def rss_kb(self) -> int:
        with open(f"/proc/{self.pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


def _ping(path: str) -> bool:
    """Whether the server at PATH answers hello (blocking: usable inside or outside an event loop)."""
    import json
    import socket

    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    try:
        s.connect(path)
        s.sendall(b'{"id":1,"cmd":"hello","protocol":1}\n')
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                return False
            data += chunk
        return bool(json.loads(data).get("ok"))
    except (OSError, ValueError):
        return False
    finally:
        s.close()


async def connect(server: ServerProcess, **kw) -> Connection:
    kw.setdefault("client", "test")
    return await Connection.open(server.socket, **kw)


async def spawn_chatter(conn: Connection, town: Path, agent: str, rate: float = 0, cols: int = 100, rows: int = 30,
                        scrollback_lines: int = 10_000) -> dict:
    return await conn.request("spawn", agent=agent, argv=[sys.executable, str(CHATTER), str(rate)], cwd=str(town),
                              cols=cols, rows=rows, scrollback_lines=scrollback_lines)


def screen_text(rows: dict[int, str], nrows: int) -> list[str]:
    return [rows.get(y, "") for y in range(nrows)]


class ScreenMirror:
    """A client-side copy of the screens a connection receives (rows as text)."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[int, str]] = {}
        self.meta: dict[str, dict] = {}
        self.styles: dict[int, dict] = {}
        self.frames = 0

    def feed(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "style":
            self.styles[event["id"]] = event["style"]
        elif kind == "screen":
            self.frames += 1
            agent = event["agent"]
            if event["full"]:
                self.rows[agent] = {}
            rows = self.rows.setdefault(agent, {})
            for y, runs in event["rows_changed"].items():
                for _, sid, _ in runs:
                    assert sid in self.styles, f"style {sid} used before it was defined"
                rows[int(y)] = "".join(text for text, _, _ in runs)
            self.meta[agent] = event

    def text(self, agent: str) -> str:
        rows = self.rows.get(agent, {})
        n = self.meta.get(agent, {}).get("rows", 0)
        return "\n".join(rows.get(y, "") for y in range(n))
