"""A sling that places its polecat on a node hooks the bead first and makes the polecat's clone on the node
after (a second or so): a running town server's patrols see the hook at once and start the polecat. It
must start on its node, not on the town machine (the convoy chaos test, slinging while the server ran,
found GUPP starting node-placed polecats locally in that window)."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from kit.git import one_commit_repo
from waiting import until


async def test_a_polecat_started_before_its_node_placement_is_recorded_runs_on_the_node(tmp_path, lab):
    from gastown_tui.nodes.placement import placement_of, placing_beads, sling_placed
    from gastown_tui.nodes.provider import provider_for
    from gastown_tui.nodes.registry import add_node
    from gastown_tui.nodes.remote_session import RemoteSession
    from gastown_tui.sessions.manager import SessionManager
    from gastown_tui.sessions.spec import SessionSpec
    from gastown_tui.town.agents import workdir
    from gastown_tui.town.install import install_town
    from gastown_tui.town.ledgers import rig_ledger
    from gastown_tui.town.rigs import add_rig

    project = one_commit_repo(tmp_path / "project", {"calc.py": "x = 1\n"}, message="calc")
    town = install_town(tmp_path / "town")
    add_rig(town, "calc", str(project))
    settings = town.root / "settings" / "config.json"
    data = json.loads(settings.read_text())
    data["local_max_polecats"] = 0  # the town machine takes none: placement must choose the node
    settings.write_text(json.dumps(data))
    m = lab.machine("n1")
    add_node(town, "n1", f"ssh://{m.user}@{m.address}:{m.port}", dir=str(m.home), python=sys.executable)
    bead = rig_ledger(town, "calc").create("Work", actor="overseer").id
    mgr = SessionManager(town.root, keeper=None)
    mgr.provider = provider_for(town.root)
    slinging = asyncio.ensure_future(asyncio.to_thread(sling_placed, town, bead, "calc", actor="overseer"))
    try:
        # As GUPP does: the moment the bead is on a polecat's hook, start that polecat.
        await until(lambda: rig_ledger(town, "calc").get(bead).status == "hooked" or slinging.done(), timeout=120,
                    what="the bead on a new polecat's hook")
        agent = rig_ledger(town, "calc").get(bead).assignee
        early = placement_of(town, agent) is None and bead in placing_beads(town)
        print(f"started while the placement was still being made: {early}")
        session = await mgr.spawn(SessionSpec(agent=agent, preset="shell", cwd=Path(workdir(town, agent)),
                                              town=town.root, argv=["sh", "-c", "pwd; sleep 60"]))
        res, placed = await slinging
        assert placed is not None and placed.node == "n1"
        assert isinstance(session, RemoteSession) and session.node == "n1", type(session)
        await until(lambda: placed.path in session.screen.text().replace("\n", ""), timeout=60,
                    what=f"the program running in its clone on the node (screen: {session.screen.text()!r})")
        assert not placing_beads(town)  # the sling's marker is gone with the sling
    finally:
        if not slinging.done():
            await asyncio.wait([slinging], timeout=120)
        await mgr.close()
        await mgr.provider.close()
