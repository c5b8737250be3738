"""Handoff in a running town: a simulated polecat runs `gt handoff -m NOTE` half-way through its molecule;
the runtime (the `handoff` patrol) replaces its session, and the successor picks the hook up and finishes."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest

from gastown_tui.patrols.runtime import TownRuntime
from gastown_tui.patrols.settings import PatrolSettings

from .townkit import git, make_town

pytestmark = pytest.mark.slow

# Two steps. The first commits half the work and hands off. The second refuses to start while this agent's own
# handoff is still pending (so the first session stops there, as an agent ends its turn after `gt handoff`);
# the successor, started after the marker was consumed, does it.
FORMULA = '''formula = "half-and-half"
type = "workflow"
version = 1

[vars.issue]
required = true

[[steps]]
id = "first-half"
title = "First half of {{issue}}"
description = """
sim: write first.txt
    the first half
sim: commit first half
sim: run gt handoff -m "first half committed; the second half is yours"
"""

[[steps]]
id = "second-half"
title = "Second half of {{issue}}"
needs = ["first-half"]
description = """
sim: run test ! -e "$GT_TOWN/.runtime/handoffs/$(printf %s "$GT_AGENT" | sed 's#/#--#g').json"
sim: write second.txt
    the second half
sim: commit second half
"""
'''


async def test_a_sim_polecat_that_hands_off_is_replaced_and_its_successor_finishes_the_hook(tmp_path):
    from gastown_tui.town.events import read_events
    from gastown_tui.town.handoff import pending_handoff
    from gastown_tui.town.jsonfile import read_json, write_json
    from gastown_tui.town.ledgers import open_ledger
    from gastown_tui.town.seance import list_predecessors, transcript_tail
    from gastown_tui.town.sling import sling

    town, rig = make_town(tmp_path)
    data = read_json(town.settings_path, default={}) or {}
    data.setdefault("role_agents", {})["polecat"] = "sim"
    write_json(town.settings_path, data)
    (town.root / "formulas" / "half-and-half.formula.toml").write_text(FORMULA)
    bead = open_ledger(rig.beads_dir).create("Two halves")
    result = sling(town, bead.id, rig.name, formula="half-and-half", no_convoy=True, actor="overseer")
    settings = PatrolSettings(backoff_base=0.5, backoff_max=2.0, gupp_idle=600.0, spawn_grace=600.0,
                              disabled=["dogs", "boot"])
    rt = TownRuntime(town.root, settings=settings)
    handoffs: list = []
    rt.runner.subscribe(lambda r: handoffs.extend(d for d in (r.report.did if r.report else [])
                                                  if r.patrol == "handoff"))
    await rt.start()
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and not any(e.type == "done" for e in read_events(town.events_path)):
            await asyncio.sleep(0.2)
        successor = rt.sessions.get(result.agent)
        assert successor is not None
        screen = successor.screen.text()
        beacon_text = successor.spec.beacon or ""
    finally:
        await rt.stop()
    events = read_events(town.events_path)
    types = [e.type for e in events]
    assert "done" in types, f"the successor never ran gt done; events: {types}\n{screen}"
    # one handoff request, one replacement, in that order, before the work was submitted
    assert types.count("handoff") == 1 and types.count("session_replaced") == 1, types
    assert types.index("handoff") < types.index("session_replaced") < types.index("done"), types
    replaced = next(e for e in events if e.type == "session_replaced")
    assert replaced.payload["agent"] == result.agent and replaced.payload["reason"] == "handoff"
    old_id, new_id = replaced.payload["old_session"], replaced.payload["new_session"]
    assert old_id != new_id and successor.id == new_id
    assert replaced.payload["exit_status"] == 0, "the old session was not stopped politely"
    assert [d.kind for d in handoffs if d.done] == ["handoff"], [d.to_dict() for d in handoffs]
    assert pending_handoff(town, result.agent) is None, "the marker was not consumed"
    # the successor started with the start-up beacon and picked up the hook: both halves are on the branch
    assert beacon_text.startswith(f"[GAS TOWN] polecat {result.agent.rsplit('/', 1)[1]} (rig: {rig.name})") \
        and "• handoff" in beacon_text and "gt prime" in beacon_text, beacon_text
    assert f"hooked: {bead.id}" in screen and "continuing the molecule" in screen, screen
    wt = result.worktree
    log = git(wt, "log", "--format=%s", "-3")
    assert log.splitlines()[:2] == ["second half", "first half"], log
    # seance: the predecessor is listed and its transcript shows the handoff
    past = {s.session_id: s for s in list_predecessors(town, result.agent)}
    assert set(past) == {old_id, new_id}
    assert past[old_id].exit_status == 0 and past[old_id].ended_at
    tail = transcript_tail(past[old_id], lines=200)
    assert "gt handoff" in tail and "SIMULATED" in tail, tail[-1500:]
    out = subprocess.run([sys.executable, "-m", "gastown_tui.cli", "seance", result.agent, "--session", old_id],
                         capture_output=True, text=True, cwd=town.root,
                         env={**__import__("os").environ, "GT_TOWN": str(town.root)})
    assert out.returncode == 0 and "gt handoff" in out.stdout, out.stdout[-1500:] + out.stderr
