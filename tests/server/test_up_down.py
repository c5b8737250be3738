"""`gastown up` twice gives one server; `gastown status` shows it; `gastown down` leaves no process."""
from __future__ import annotations

import json
import time
import os
import subprocess
import sys

import psutil

from gastown_tui.server.lock import serving_pid
from processes import gone
from server.serverkit import CHATTER


def gastown(*args, cwd, check=True):
    env = {k: v for k, v in os.environ.items() if k not in ("GT_TOWN", "GT_AGENT", "GASTOWN_SOCKET")}
    proc = subprocess.run([sys.executable, "-m", "gastown_tui.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=180, env=env)
    if check:
        assert proc.returncode == 0, f"gastown {args}: {proc.stdout}{proc.stderr}"
    return proc


def _servers_of(town) -> list[int]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = p.info["cmdline"] or []
        if cmd[1:5] == ["-m", "gastown_tui.cli", "server", "--town"] and str(town) in cmd:
            try:
                if p.status() != psutil.STATUS_ZOMBIE:
                    found.append(p.pid)
            except psutil.Error:
                pass
    return found


def test_up_twice_one_server_then_down_leaves_nothing(town):
    first = gastown("up", cwd=town)
    second = gastown("up", cwd=town)
    pid = serving_pid(str(town))
    assert pid and f"started: pid {pid}" in first.stdout
    assert f"already running: pid {pid}" in second.stdout and ".sock" in second.stdout
    try:
        assert _servers_of(town) == [pid]
        server = psutil.Process(pid)
        assert os.getsid(pid) != os.getsid(0)  # its own session: not tied to this terminal
        assert server.ppid() != os.getpid()
        # Two agents, one of which starts a grandchild.
        import asyncio

        from gastown_tui.client.connection import Connection
        from gastown_tui.server import paths

        async def spawn():
            conn = await Connection.open(paths.socket_path(str(town)))
            a = await conn.request("spawn", agent="boot", argv=[sys.executable, str(CHATTER), "100"], cwd=str(town))
            b = await conn.request("spawn", agent="deacon", argv=["sh", "-c", "sleep 300 & exec cat"], cwd=str(town))
            await conn.close()
            return [a["pid"], b["pid"]]

        agent_pids = asyncio.run(spawn())
        # `gastown up` starts the Mayor too (the town's front door): wait for it
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            st = json.loads(gastown("status", "--json", cwd=town).stdout)
            mayor = [a["pid"] for a in st["agents"] if a["address"] == "mayor/" and a["pid"]]
            if mayor:
                break
            time.sleep(0.2)
        assert mayor, st
        assert st["running"] and st["server_pid"] == pid and st["version"]
        agent_pids += mayor
        assert sorted(a["pid"] for a in st["agents"]) == sorted(agent_pids)
        assert all(a["state"] and a["cols"] == 120 and a["rows"] == 40 and "hook" in a for a in st["agents"])
        human = gastown("status", cwd=town).stdout
        assert f"server pid {pid}" in human and "mayor" in human and "boot" in human and "deacon" in human
        tree = [c.pid for a in agent_pids for c in psutil.Process(a).children(recursive=True)]
        assert tree  # the sleep
    finally:
        down = gastown("down", cwd=town)
    assert f"stopped the town server (pid {pid})" in down.stdout
    assert gone(pid)
    assert all(gone(p) for p in agent_pids + tree), [p for p in agent_pids + tree if not gone(p)]
    assert _servers_of(town) == []
    assert serving_pid(str(town)) is None
    assert "no server runs" in gastown("down", cwd=town).stdout
    assert gastown("status", cwd=town, check=False).returncode == 1
