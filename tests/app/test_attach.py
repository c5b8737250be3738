"""The app is only a client of the town's server: killing it, or hanging up its terminal, leaves every agent running.

Real processes: the demo town's server (`gastown_tui.client.control.start_background`) runs simulated
polecats; `gastown app` runs in a pseudo-terminal of its own, attaches (the server lists it as an `app`
client), and is then killed with SIGKILL, or its terminal is closed as an SSH drop does. The agents'
pids must live on and their transcripts keep growing.
"""
from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from gastown_tui.demo.build import build_demo_town
from gastown_tui.client import control
from gastown_tui.town.addresses import agent_key
from gastown_tui.town.layout import Town

pytestmark = pytest.mark.slow

GASTOWN = [sys.executable, "-m", "gastown_tui.cli"]


def wait_for(condition, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def transcript_bytes(town: Town, address: str) -> int:
    folder = town.sessions_dir(agent_key(address))
    return sum(p.stat().st_size for p in folder.glob("*/transcript.raw")) if folder.is_dir() else 0


def as_in_a_terminal() -> None:
    """(In the child:) the PTY becomes its controlling terminal, and a hang-up does what it does in a terminal
    window (the default), even when the tests run under `nohup`, whose ignored SIGHUP children inherit."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def start_app_in_pty(root: Path, cols: int = 160, rows: int = 48) -> tuple[subprocess.Popen, int]:
    """`gastown app` in a new pseudo-terminal (its own session, as in a terminal window); returns (process, master)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
    proc = subprocess.Popen(GASTOWN + ["app", "--town", str(root)], stdin=slave, stdout=slave, stderr=slave,
                            env=env, start_new_session=True, close_fds=True, preexec_fn=as_in_a_terminal)
    os.close(slave)
    os.set_blocking(master, False)
    return proc, master


def drain(master: int) -> None:
    """Reads what the app drew (a terminal that is never read would block the app's writes)."""
    try:
        while os.read(master, 65536):
            pass
    except (BlockingIOError, OSError):
        pass


def app_clients(root: Path) -> list[dict]:
    status = control.status(root) or {}
    return [c for c in status.get("clients", []) if c.get("client") == "app"]


def working_agents(root: Path) -> dict[str, int]:
    status = control.status(root) or {}
    return {a["address"]: a["pid"] for a in status.get("agents", []) if a.get("alive") and "/polecats/" in a["address"]}


@pytest.fixture
def served_demo(tmp_path):
    demo = build_demo_town(tmp_path / "demo", polecats=2, pace=1.0)
    root = demo.town.root
    control.start_background(root)
    try:
        yield root
    finally:
        control.stop(root)


@pytest.mark.parametrize("how", ["kill -9", "hang-up"])
def test_agents_outlive_the_app(served_demo, how):
    root = served_demo
    town = Town(root)
    proc, master = start_app_in_pty(root)
    try:
        wait_for(lambda: (drain(master), app_clients(root))[1], 60, "the app attached to the server")
        agents = wait_for(lambda: (drain(master), working_agents(root))[1], 60, "polecats working in the server")
        if how == "kill -9":
            proc.kill()
        else:
            os.close(master)  # the terminal goes away: the app gets a hang-up
            master = -1
        proc.wait(timeout=30)
        wait_for(lambda: not app_clients(root), 30, "the server to notice the app has gone")
        assert control.status(root) is not None, "the server died with the app"
        for address, pid in agents.items():
            assert alive(pid), f"{address} (pid {pid}) died with the app ({how})"
        sizes = {a: transcript_bytes(town, a) for a in agents}
        wait_for(lambda: all(transcript_bytes(town, a) > sizes[a] or not alive(pid) for a, pid in agents.items())
                 and any(transcript_bytes(town, a) > sizes[a] for a in agents), 60,
                 "the agents' transcripts to keep growing after the app went")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        if master >= 0:
            os.close(master)


def test_apps_of_other_sizes_attach_without_resizing_or_restarting_the_agents(served_demo):
    """A first app is killed; two more attach at other sizes than the agents': every agent keeps its pid and
    its PTY size (only a pane the user types into claims an agent's size)."""
    root = served_demo
    first, m1 = start_app_in_pty(root)
    try:
        wait_for(lambda: (drain(m1), app_clients(root))[1], 60, "the first app attached")
        agents = wait_for(lambda: (drain(m1), working_agents(root))[1], 60, "polecats working")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        os.close(m1)

    def sizes() -> dict[str, tuple[int, int]]:
        return {a["address"]: (a["cols"], a["rows"]) for a in (control.status(root) or {}).get("agents", [])
                if a["address"] in agents and a.get("alive")}

    before = sizes()
    apps = [start_app_in_pty(root, cols=100, rows=30), start_app_in_pty(root, cols=200, rows=60)]
    try:
        wait_for(lambda: ([drain(m) for _, m in apps], len(app_clients(root)) == 2)[1], 60, "both apps attached")
        now = working_agents(root)
        for address, pid in agents.items():
            assert now.get(address) == pid or not alive(pid), f"{address} was restarted: {pid} -> {now.get(address)}"
        after = sizes()
        assert {a: after[a] for a in before if a in after} == {a: before[a] for a in before if a in after}, \
            "attaching an app of another size resized an agent"
    finally:
        for proc, master in apps:
            proc.kill()
            proc.wait(timeout=10)
            os.close(master)


async def test_after_a_kill_a_new_app_shows_each_agents_screen_row_for_row(served_demo):
    """kill -9 of an app, then a new one: the polecat in its centre pane shows the screen the server has, row
    for row (compared with a fresh observer's full frame while the simulated agent pauses between actions)."""
    import asyncio

    from gastown_tui.app import AttachedApp
    from gastown_tui.client.connection import Connection
    from gastown_tui.client.socket_link import SocketLink
    from server.serverkit import ScreenMirror

    from .helpers import town_loaded, until

    root = served_demo
    first, master = start_app_in_pty(root)
    try:
        await asyncio.to_thread(wait_for, lambda: (drain(master), app_clients(root))[1], 60, "the first app attached")
        agents = await asyncio.to_thread(wait_for, lambda: (drain(master), working_agents(root))[1], 60,
                                         "polecats working")
        first.kill()
        first.wait(timeout=30)
    finally:
        os.close(master)
    app = AttachedApp(root, link=SocketLink(root))
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        sessions = app.controller.sessions
        await until(pilot, lambda: sessions is not None and all(sessions.get(a) for a in agents), timeout=30,
                    what="every polecat's session, as the server runs it")
        for address, pid in agents.items():
            assert sessions.get(address).pid == pid, f"{address} is not the process the first app watched"
        mirror = ScreenMirror()
        observer = await Connection.to_town(str(root), client="test", on_event=mirror.feed)
        try:
            for address in agents:
                app.screen.focus_agent(address)
                await until(pilot, lambda: pane_of(app) is not None and pane_of(app).session.agent == address,
                            timeout=20, what=f"{address} in the centre")
                remote = pane_of(app).session.screen
                await observer.request("subscribe", agents=[address])
                await until(pilot, lambda: address in mirror.meta and mirror.text(address).strip()
                            and mirror.text(address) == remote.text(), timeout=30,
                            what=f"{address}'s rows in the new app equal to the server's")
        finally:
            await observer.close()


def pane_of(app):
    from widgets.terminal_pane import TerminalPane

    panes = [p for p in app.screen.query(TerminalPane) if p.display and p.session is not None]
    return panes[0] if panes else None
