"""Upgrade in place and `kill -9` of a real town server run by its keeper (`gastown up`): the agents' pids
stay, a connected client reconnects, the demo's convoy lands with no commit lost, `gastown down` leaves
nothing. Real processes: the keeper, `gastown server`, sim polecats in PTYs, git."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from gastown_tui.client.connection import Connection, reconnect
from gastown_tui.demo.build import build_demo_town, load_demo
from gastown_tui.demo.verify import check_demo
from gastown_tui.server import paths
from tests.processes import gone

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the keeper needs Linux")]


def gastown(*args, timeout=90):
    return subprocess.run([sys.executable, "-m", "gastown_tui.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def town_processes(town: Path) -> list[int]:
    """Live processes of this town: its keeper, server and agents (by command line or GT_TOWN)."""
    out = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        try:
            if p.status() == psutil.STATUS_ZOMBIE or p.pid == os.getpid():
                continue
            if str(town) in " ".join(p.info["cmdline"] or []) or p.environ().get("GT_TOWN") == str(town):
                out.append(p.pid)
        except (psutil.Error, OSError):
            continue
    return out


async def status(town: Path) -> dict:
    conn = await Connection.to_town(str(town), client="test")
    try:
        return await conn.request("status")
    finally:
        await conn.close()


async def wait_status(town: Path, cond, what: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = await status(town)
            if cond(last):
                return last
        except (OSError, ConnectionError, asyncio.TimeoutError):
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; last status: {last}")


def live_agents(s: dict) -> dict[str, int]:
    return {a["address"]: a["pid"] for a in s["agents"] if a["alive"]}


@pytest.fixture
def demo(tmp_path):
    d = build_demo_town(tmp_path / "demo", polecats=2, pace=2.0)
    yield d
    gastown("down", "--town", str(d.town.root), timeout=90)
    deadline = time.monotonic() + 10
    while town_processes(d.town.root) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = town_processes(d.town.root)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    assert left == [], f"left behind: {left}"


def test_upgrade_in_place_keeps_the_agents_and_the_client_reconnects(demo, monkeypatch, capsys):
    town = demo.town.root
    up = gastown("up", "--town", str(town))
    assert up.returncode == 0, up.stdout + up.stderr
    # A newer gastown installed than the one serving: `gastown up` says so and how to upgrade.
    import gastown_tui
    from gastown_tui.cli import main as gastown_main

    running = gastown_tui.__version__
    monkeypatch.setattr(gastown_tui, "__version__", "99.0.0")
    assert gastown_main(["up", "--town", str(town)]) == 0
    out = capsys.readouterr().out
    assert f"the server runs gastown {running}; 99.0.0 is installed: `gastown up --upgrade`" in out
    monkeypatch.setattr(gastown_tui, "__version__", running)

    async def scenario():
        before = await wait_status(town, lambda s: len([a for a in live_agents(s) if "/polecats/" in a]) >= 2,
                                   "two polecats working")
        conn = await Connection.to_town(str(town), client="test", interactive=False)
        await conn.request("watch", topics=["lifecycle"])
        old_server = conn.server["server_pid"]
        assert psutil.Process(old_server).parent().cmdline()[2].endswith("keeper.py")

        done = await asyncio.get_running_loop().run_in_executor(
            None, lambda: gastown("up", "--upgrade", "--town", str(town)))
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"server pid {old_server} -> " in done.stdout

        await asyncio.wait_for(conn.closed.wait(), 30)  # the old server went away...
        again = await reconnect(paths.socket_path(str(town)), client="test", timeout=60)  # ...the client comes back
        try:
            assert again.server["server_pid"] != old_server
            assert gone(old_server)
            after = await again.request("status")
        finally:
            await again.close()
        kept = {a: p for a, p in live_agents(before).items()
                 if psutil.pid_exists(p) and not gone(p)}
        assert kept, "the polecats should still be working"
        now = {a["address"]: a["pid"] for a in after["agents"]}
        for agent, pid in kept.items():
            assert now.get(agent) == pid, f"{agent}: pid {pid} before the upgrade, {now.get(agent)} after"
        return kept

    kept = asyncio.run(scenario())
    for pid in kept.values():  # the adopted agents are the keeper's now (re-parented), not restarted
        assert "keeper.py" in " ".join(psutil.Process(pid).parent().cmdline())


def test_a_convoy_in_flight_lands_across_kill_9_of_the_server(demo):
    town = demo.town.root
    up = gastown("up", "--town", str(town))
    assert up.returncode == 0, up.stdout + up.stderr

    async def scenario():
        before = await wait_status(town, lambda s: len([a for a in live_agents(s) if "/polecats/" in a]) >= 2,
                                   "two polecats working")
        os.kill(before["server_pid"], signal.SIGKILL)
        after = await wait_status(town, lambda s: s["server_pid"] != before["server_pid"], "the restarted server")
        assert after["agents"], "the restarted server lists the adopted agents from its first answer"
        now = {a["address"]: a["pid"] for a in after["agents"]}
        for agent, pid in live_agents(before).items():
            if not gone(pid):
                assert now.get(agent) == pid, f"{agent}: pid {pid} before the kill, {now.get(agent)} after"
    asyncio.run(scenario())

    deadline = time.monotonic() + 180
    check = check_demo(load_demo(demo.root))
    while not check.landed and time.monotonic() < deadline:
        time.sleep(1.0)
        check = check_demo(load_demo(demo.root))
    assert check.landed, check.summary() + "\n" + (town / ".runtime" / "server.log").read_text()[-3000:]
    assert check.missing_changes == [] and check.lost_commits == [], check.summary()
    assert check.tests_pass, check.tests_tail
