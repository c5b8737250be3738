"""`gastown attach AGENT` in a real PTY (pexpect) against a real town server (`gastown up`) with a
simulated polecat: the screen, keys to the agent, ctrl+b d, the size rule, an upgrade while attached."""
from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time

import pexpect
import pytest

from gastown_tui.client.connection import Connection
from gastown_tui.demo.build import build_demo_town
from tests.processes import gone

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux PTYs")]

GASTOWN = [sys.executable, "-m", "gastown_tui.cli"]


def gastown(*args, timeout=90):
    return subprocess.run([*GASTOWN, *args], capture_output=True, text=True, timeout=timeout)


async def _status(town):
    conn = await Connection.to_town(str(town), client="test")
    try:
        return await conn.request("status")
    finally:
        await conn.close()


def status(town):
    return asyncio.run(_status(town))


def agent_info(town, address):
    return next(a for a in status(town)["agents"] if a["address"] == address)


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    # pace: the sim polecats pause this long between actions, so one stays on its bead for minutes
    demo = build_demo_town(tmp_path_factory.mktemp("attach") / "demo", polecats=1, pace=20.0)
    root = demo.town.root
    up = gastown("up", "--town", str(root))
    assert up.returncode == 0, up.stdout + up.stderr
    deadline = time.monotonic() + 60
    agent = None
    while agent is None and time.monotonic() < deadline:
        live = [a for a in status(root)["agents"] if a["alive"] and "/polecats/" in a["address"]]
        agent = live[0]["address"] if live else None
        time.sleep(0.1)
    assert agent, "a polecat should be working"
    yield root
    gastown("down", "--town", str(root))


def live_polecat(root) -> str:
    """A polecat working now (the one the town started may have finished its bead since)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        live = [a for a in status(root)["agents"] if a["alive"] and "/polecats/" in a["address"]]
        if live:
            return live[0]["address"]
        time.sleep(0.1)
    raise AssertionError("no polecat is working")


def spawn_attach(root, agent, cols=100, rows=30, *extra):
    return pexpect.spawn(GASTOWN[0], [*GASTOWN[1:], "attach", "--town", str(root), *extra, agent],
                         dimensions=(rows, cols), encoding="utf-8", timeout=30)


def test_attach_shows_the_screen_types_into_the_agent_and_detaches_leaving_it_running(town):
    root = town
    agent = live_polecat(root)
    pid = agent_info(root, agent)["pid"]
    child = spawn_attach(root, agent, 100, 30)
    try:
        child.expect(re.escape(f"attached to {agent} (detach: ctrl+b d)"))
        child.expect("SIMULATED")  # the sim agent's footer, drawn from the server's screen rows
        # The only client: it claims the agent's size (this terminal's).
        deadline = time.monotonic() + 30
        while (agent_info(root, agent)["cols"], agent_info(root, agent)["rows"]) != (100, 30):
            assert time.monotonic() < deadline, agent_info(root, agent)
            time.sleep(0.05)
        child.send("typed-through-attach")
        child.expect("typed-through-attach")  # the agent echoed it on its prompt line
        child.send("\x02d")
        child.expect(re.escape(f"[detached from {agent}]"))
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    info = agent_info(root, agent)
    assert info["pid"] == pid and info["alive"] and not gone(pid)


def test_an_observer_never_resizes_the_agent(town):
    root = town
    agent = live_polecat(root)

    async def scenario():
        owner = await Connection.to_town(str(root), client="app", interactive=True)
        try:
            await owner.request("focus", agent=agent)
            await owner.request("resize", agent=agent, cols=90, rows=28)
            child = spawn_attach(root, agent, 60, 15)
            try:
                await asyncio.get_running_loop().run_in_executor(None, child.expect, "SIMULATED")
                child.setwinsize(20, 70)
                child.send("\x02d")
                await asyncio.get_running_loop().run_in_executor(None, child.expect, pexpect.EOF)
                # Once the server has seen the attach client leave, it has read everything that client sent,
                # a (wrong) resize included.
                status = await owner.request("status")
                for _ in range(1000):
                    if len(status["clients"]) == 1:
                        break
                    status = await owner.request("status")
                assert len(status["clients"]) == 1, status["clients"]
                mine = next(a for a in status["agents"] if a["address"] == agent)
                assert (mine["cols"], mine["rows"]) == (90, 28)
            finally:
                child.close(force=True)
        finally:
            await owner.close()
    asyncio.run(scenario())


def test_attach_to_an_unknown_agent_names_the_running_ones(town):
    root = town
    agent = live_polecat(root)
    done = gastown("attach", "--town", str(root), "nosuchrig/polecats/ghost")
    assert done.returncode == 1
    assert "nosuchrig/polecats/ghost has no session in this town" in done.stderr and agent in done.stderr


def test_attach_survives_an_upgrade_of_the_server(town):
    root = town
    agent = live_polecat(root)
    pid = agent_info(root, agent)["pid"]
    child = spawn_attach(root, agent, 100, 30)
    try:
        child.expect("SIMULATED")
        old = status(root)["server_pid"]
        up = gastown("up", "--upgrade", "--town", str(root))
        assert up.returncode == 0, up.stdout + up.stderr
        # It reconnects by itself: the new server counts it among its clients, and it draws a new full frame.
        deadline = time.monotonic() + 60
        while True:
            now = status(root)
            if now["server_pid"] != old and any(c["client"] == "attach" for c in now["clients"]):
                break
            if time.monotonic() > deadline or not child.isalive():
                try:
                    tail = child.read_nonblocking(100000, timeout=1)
                except (pexpect.TIMEOUT, pexpect.EOF):
                    tail = child.before
                raise AssertionError(f"no reconnect: attach alive={child.isalive()}; its output ends "
                                     f"{str(tail)[-300:]!r}; status {now}")
            time.sleep(0.1)
        child.expect("\x1b\\[2J")  # a full frame (the new server's first)
        child.expect("SIMULATED")
        assert agent_info(root, agent)["pid"] == pid  # the same agent, adopted by the new server
        child.send("\x02d")
        child.expect(re.escape(f"[detached from {agent}]"))
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
