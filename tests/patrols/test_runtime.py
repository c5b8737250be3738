"""A running town (sessions + patrols): the Deacon keeps each rig's patrols alive, Boot revives the Deacon."""
from __future__ import annotations

import asyncio

from gastown_tui.patrols.runtime import TownRuntime

from .townkit import make_town
from waiting import until as wait_for


async def test_a_rig_added_while_running_gets_its_witness_and_refinery(tmp_path):
    town, rig = make_town(tmp_path)
    rt = TownRuntime(town.root)
    await rt.start()
    try:
        assert set(rt.runner.names()) == {"deacon", "boot", "dogs", "gupp", "handoff", "budget",
                                         "witness:textkit", "refinery:textkit"}
        from gastown_tui.demo.sample import write_sample_project
        from gastown_tui.town.rigs import add_rig

        src = write_sample_project(tmp_path / "src2")
        await asyncio.to_thread(add_rig, town, "second", str(src))
        assert await wait_for(lambda: rt.runner.has("witness:second") and rt.runner.has("refinery:second"))
        assert await wait_for(lambda: rt.runner.get_status("witness:second").runs >= 1)
        from gastown_tui.patrols.eventlog import read_events

        runs = read_events(town.root, types=("patrol_run",))
        ensured = [d["target"] for e in runs if e["payload"]["patrol"] == "deacon"
                   for d in e["payload"].get("did", []) if d["kind"] == "ensure_patrol"]
        assert set(ensured) == {"witness:second", "refinery:second"}
    finally:
        await rt.stop()
    assert all(s.state == "stopped" for s in rt.runner.status())


async def test_boot_restarts_a_deacon_that_is_gone(tmp_path):
    town, rig = make_town(tmp_path)
    rt = TownRuntime(town.root)
    await rt.start()
    try:
        assert await wait_for(lambda: (rt.runner.get_status("deacon") or 0) and rt.runner.get_status("deacon").runs >= 1)
        # Boot's own start-up run is over too (its next is 5 min away): only the run below can see the gap
        assert await wait_for(lambda: (rt.runner.get_status("boot") or 0) and rt.runner.get_status("boot").runs >= 1)
        rt.runner.remove("deacon")
        assert not rt.runner.has("deacon")
        record = await rt.runner.run_once("boot")
        assert [d.kind for d in record.report.did] == ["restart_deacon"]
        assert await wait_for(lambda: rt.runner.has("deacon"))
        assert await wait_for(lambda: rt.runner.get_status("deacon").runs >= 1)
        from gastown_tui.patrols.deacon import read_heartbeat

        assert read_heartbeat(town.root)["cycle"] >= 1
    finally:
        await rt.stop()
