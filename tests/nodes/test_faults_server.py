"""Through the town server's protocol (a real `gastown server` process): keys a person types to an agent
on a node whose link is down are refused with the reason (`link-down`, naming the node and saying the
program still runs there), not typed into a void; when the link is back, keys reach the same program."""
from __future__ import annotations

import asyncio
import base64
import json
import sys
from dataclasses import asdict

import pytest

from gastown_tui.client.connection import RemoteError
from gastown_tui.nodes.git import RemoteWorktree
from gastown_tui.nodes.registry import add_node
from gastown_tui.town.layout import Town
from waiting import until


async def test_keys_to_an_agent_whose_node_link_is_down_are_refused_with_the_reason(tmp_path, lab):
    from nodes.sshd import NETNS
    from server.serverkit import ScreenMirror, ServerProcess, connect, make_town

    town = make_town(tmp_path / "town")
    m = lab.machine("n1")
    add_node(Town(town), "n1", f"ssh://{m.user}@{m.address}:{m.port}", dir=str(m.home), python=sys.executable)
    home = m.home.resolve()
    wt = RemoteWorktree("n1", "gastown", "mayor", "polecat/mayor/x", str(home), "", str(home / "mayor"))
    placements = town / ".runtime" / "nodes" / "placements.json"
    placements.parent.mkdir(parents=True, exist_ok=True)
    placements.write_text(json.dumps({"placements": {"mayor": {"node": "n1", "worktree": asdict(wt)}}}))
    srv = ServerProcess(town)  # with the lab's GASTOWN_SSH_CONFIG in its environment
    try:
        srv.wait_ready()
        conn = await connect(srv, interactive=True)
        mirror = ScreenMirror()
        conn.on_event = mirror.feed
        await conn.request("spawn", agent="mayor", argv=["cat"], cwd=str(town), cols=80, rows=24)
        agent = (await conn.request("subscribe", agents=["mayor"]))["agents"][0]
        await conn.request("focus", agent=agent)

        async def type_(text: bytes):
            return await conn.request("input", agent=agent, data=base64.b64encode(text).decode())

        await type_(b"before the cut\r")
        assert await until(lambda: mirror.text(agent).count("before the cut") == 2), mirror.text(agent)
        if lab.topology == NETNS:
            m.cut()
        else:
            m.kill_sshd()
        refusal = None

        async def refused() -> bool:
            nonlocal refusal
            try:
                await type_(b"")  # an empty key: nothing would be typed even if it went through
            except RemoteError as err:
                refusal = err
                return True
            return False

        for _ in range(150):  # the server notices within its link timeout (4 s) and then refuses
            if await refused():
                break
            await asyncio.sleep(0.1)
        assert refusal is not None, "keys were still accepted 15 s after the cut"
        assert refusal.code == "link-down"
        assert "node n1" in str(refusal) and "still running there" in str(refusal), str(refusal)
        with pytest.raises(RemoteError):
            await type_(b"typed while down\r")
        if lab.topology == NETNS:
            m.heal()
        else:
            m.start()

        async def accepted() -> bool:
            try:
                await type_(b"")
            except RemoteError:
                return False
            return True

        for _ in range(300):
            if await accepted():
                break
            await asyncio.sleep(0.1)
        await type_(b"after the heal\r")
        assert await until(lambda: mirror.text(agent).count("after the heal") == 2, timeout=30), mirror.text(agent)
        assert "typed while down" not in mirror.text(agent)
        await conn.close()
    finally:
        srv.stop()
