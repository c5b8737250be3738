"""Ralph loops in a running town: a simulated polecat whose step check fails twice and passes the third time
runs exactly three sessions; with max_attempts = 2 the step ends escalated, nothing lost, work on the hook.

The step's instruction appends this session's id to tries.txt; the check passes once three different sessions
have done so, so it fails for the first two contexts and passes in the third."""
from __future__ import annotations

import asyncio
import time

import pytest

from gastown_tui.patrols.runtime import TownRuntime
from gastown_tui.patrols.settings import PatrolSettings

from .townkit import git, make_town

pytestmark = pytest.mark.slow

FORMULA = '''formula = "ralph-grind"
type = "workflow"
version = 1

[vars.issue]
required = true

[[steps]]
id = "grind"
title = "Grind {{{{issue}}}}"
acceptance = "three different sessions have signed tries.txt"
description = """
sim: run echo "$GT_SESSION_ID" >> tries.txt
"""
ralph = {{ check = 'n=$(sort -u tries.txt | wc -l); echo "signed by $n session(s)"; test "$n" -ge 3', max_attempts = {attempts}, timeout = "30s" }}

[[steps]]
id = "after"
title = "After the grind"
needs = ["grind"]
description = """
sim: write after.txt
    after
sim: commit after the grind
"""
'''


def _town(tmp_path, attempts: int):
    from gastown_tui.town.jsonfile import read_json, write_json
    from gastown_tui.town.ledgers import open_ledger
    from gastown_tui.town.sling import sling

    town, rig = make_town(tmp_path)
    data = read_json(town.settings_path, default={}) or {}
    data.setdefault("role_agents", {})["polecat"] = "sim"
    write_json(town.settings_path, data)
    (town.root / "formulas" / "ralph-grind.formula.toml").write_text(FORMULA.format(attempts=attempts))
    bead = open_ledger(rig.beads_dir).create("Grind until it passes")
    result = sling(town, bead.id, rig.name, formula="ralph-grind", no_convoy=True, actor="overseer")
    return town, rig, bead, result


def _runtime(town):
    settings = PatrolSettings(backoff_base=0.5, backoff_max=2.0, gupp_idle=600.0, spawn_grace=600.0,
                              disabled=["dogs", "boot"])
    return TownRuntime(town.root, settings=settings)


async def _until(pred, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _step(rig, result):
    from gastown_tui.town.ledgers import open_ledger

    ledger = open_ledger(rig.beads_dir)
    ledger.reload()
    return ledger.raw(f"{result.molecule}.grind")


async def test_a_ralph_step_failing_twice_runs_three_fresh_sessions_then_closes_and_the_molecule_goes_on(tmp_path):
    from gastown_tui.town.events import read_events
    from gastown_tui.town.seance import list_predecessors, transcript_tail

    town, rig, bead, result = _town(tmp_path, attempts=3)
    rt = _runtime(town)
    await rt.start()
    try:
        await _until(lambda: any(e.type == "done" for e in read_events(town.events_path)), 120, "gt done")
        successor = rt.sessions.get(result.agent)
        beacon_text = successor.spec.beacon or ""
        screen = successor.screen.history_text()
    finally:
        await rt.stop()
    events = read_events(town.events_path)
    attempts = [e.payload for e in events if e.type == "ralph_attempt"]
    assert [(a["attempt"], a["passed"]) for a in attempts] == [(1, False), (2, False), (3, True)], attempts
    replaced = [e.payload for e in events if e.type == "session_replaced"]
    assert [r["reason"] for r in replaced] == ["ralph", "ralph"], replaced
    # three sessions, three transcripts: the predecessors stay reachable through seance
    past = list_predecessors(town, result.agent)
    assert len(past) == 3, [p.session_id for p in past]
    assert {r["old_session"] for r in replaced} | {successor.id} == {p.session_id for p in past}
    first = next(p for p in past if p.session_id == replaced[0]["old_session"])
    assert "Ralph check failed on attempt 1 of 3" in transcript_tail(first, lines=400)
    # three attempt records on the step bead, which is closed; the molecule went on to the next step
    step = _step(rig, result)
    recorded = step["metadata"]["ralph"]["attempts"]
    assert [(a["n"], a["passed"], a["exit"]) for a in recorded] == [(1, False, 1), (2, False, 1), (3, True, 0)]
    assert "signed by 1 session(s)" in recorded[0]["tail"] and "signed by 2 session(s)" in recorded[1]["tail"]
    assert len({a["session"] for a in recorded}) == 3, "each attempt ran in its own session"
    assert step["status"] == "closed"
    assert git(result.worktree, "log", "--format=%s", "-1") == "after the grind"
    # the third session's start-up prompt named its attempt and showed the last failure
    assert "ralph attempt 3 of 3" in beacon_text, beacon_text
    assert "signed by 2 session(s)" in beacon_text and "Ralph attempt 3 of 3" in beacon_text, beacon_text
    assert "Ralph: attempt 3 of 3" in screen, screen[-2000:]


async def test_a_ralph_step_out_of_attempts_is_escalated_with_every_failure_and_the_work_stays_hooked(tmp_path):
    from gastown_tui.town.events import read_events
    from gastown_tui.town.hooks import hooked_record
    from gastown_tui.town.ledgers import town_ledger
    from gastown_tui.town.prime import prime_info
    from gastown_tui.town.seance import list_predecessors

    town, rig, bead, result = _town(tmp_path, attempts=2)
    rt = _runtime(town)
    await rt.start()
    try:
        await _until(lambda: any(e.type == "ralph_exhausted" for e in read_events(town.events_path)), 120,
                     "the Ralph step to run out of attempts")
        await _until(lambda: len(list_predecessors(town, result.agent)) >= 2, 10, "two sessions")
    finally:
        await rt.stop()
    events = read_events(town.events_path)
    assert [(e.payload["attempt"], e.payload["passed"]) for e in events if e.type == "ralph_attempt"] == \
        [(1, False), (2, False)]
    assert not any(e.type == "done" for e in events)
    assert len(list_predecessors(town, result.agent)) == 2
    step = _step(rig, result)
    assert step["status"] != "closed"
    esc_id = step["metadata"]["ralph"]["escalation"]
    esc = town_ledger(town).raw(esc_id)
    assert "gt:escalation" in esc["labels"] and step["id"] in esc["title"]
    assert "Attempt 1" in esc["description"] and "Attempt 2" in esc["description"]
    assert "signed by 1 session(s)" in esc["description"] and "signed by 2 session(s)" in esc["description"]
    # nothing lost: both sessions' work is in the worktree, the bead is still on the polecat's hook
    assert len((result.worktree and open(f"{result.worktree}/tries.txt").read().split()) or []) == 2
    hook = hooked_record(town, result.agent)
    assert hook is not None and hook["id"] == bead.id
    info = prime_info(town, result.agent)
    assert info["ralph"]["exhausted"] and "all 2 attempts failed" in info["ralph"]["text"]
