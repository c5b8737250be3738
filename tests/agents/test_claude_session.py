"""Claude Code under the session manager: its states with the deciding rules, and nudges while busy."""
from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

import pytest
from fake_model import Reply, Say, Shell
from agent_townkit import agent_spec, make_town, new_bead, wait_until

from gastown_tui.sessions.manager import SessionManager
from gastown_tui.sessions.presets import load_presets
from gastown_tui.sessions.rules import Detector, Observation
from gastown_tui.sessions.states import NudgeDelivered, SessionState, StateChange
from gastown_tui.town.nudges import enqueue
from gastown_tui.town.sling import sling

pytestmark = pytest.mark.agents


async def _session(tmp_path, fake_model, beacon: str, asks: bool):
    town, rig = make_town(tmp_path)
    result = sling(town, new_bead(rig, "Some work"), rig.name)
    preset = load_presets()["claude"]
    if asks:  # the mode that asks before permission-gated tools (2.1.337's default, auto mode, asks for some)
        preset = dataclasses.replace(preset, argv=("claude", "--permission-mode", "default"))
    mgr = SessionManager(town.root)
    await mgr.start()
    events: list = []
    mgr.add_listener(events.append)
    session = await mgr.spawn(agent_spec(town, result.agent, "claude", result.worktree, fake_model.url,
                                         beacon=beacon, preset=preset))
    return town, result, mgr, session, events


async def test_states_working_then_needs_approval_then_idle_with_their_rules(tmp_path, fake_model):
    town, result, mgr, session, events = await _session(
        tmp_path, fake_model, "sleep 2 write gated.txt: needs a yes", asks=True)
    try:
        await wait_until(lambda: session.state is SessionState.NEEDS_APPROVAL, 30, "needs-approval")
        assert not (Path(result.worktree) / "gated.txt").exists()
        await wait_until(lambda: time.monotonic() - session.last_output_at > 0.5, 10, "the dialog drawn")
        session.send_key("enter")  # "1. Yes" is preselected
        await wait_until(lambda: (Path(result.worktree) / "gated.txt").exists(), 15, "the approved write")
        await wait_until(lambda: session.state is SessionState.IDLE and "DONE wrote" in session.screen.text(),
                         20, "idle after the write")
    finally:
        await mgr.close()
    seen = [(e.new.value, e.rule, e.detail) for e in events if isinstance(e, StateChange)]
    for state, rule, detail in seen:
        print(f"  {state:15} {rule:35} {detail}")
    states = [s for s, _, _ in seen]
    w = states.index("working")
    a = states.index("needs-approval", w)
    i = states.index("idle", a)
    assert seen[a][1] == "claude.needs-approval.dialog"
    assert seen[w][1].startswith("claude.working.") and seen[i][1].startswith("claude.idle.")


async def test_a_nudge_typed_into_busy_claude_is_submitted_exactly_once(tmp_path, fake_model, brain):
    brain.add(r"^busy", Reply(actions=[Say("Working on it."), Shell("sleep 4 && echo slept")], delay=1),
              Say("DONE busy"))
    brain.add(r"check your mail", Say("ACK nudge"))
    nudge = "Witness here: check your mail please"
    town, result, mgr, session, events = await _session(tmp_path, fake_model, "busy with a long command", asks=False)
    try:
        await wait_until(lambda: session.state is SessionState.WORKING, 30, "Claude busy")
        enqueue(town.runtime / "nudge_queue", result.agent, nudge, sender=f"{result.agent.split('/')[0]}/witness",
                urgent=True)
        delivered = await wait_until(lambda: [e for e in events if isinstance(e, NudgeDelivered)], 30,
                                     "the nudge delivered")
        await wait_until(lambda: any(nudge in " ".join(r["conv"]["user_texts"]) for r in fake_model.requests
                                     if r["conv"] and r["conv"]["has_tools"]), 40, "the nudge reaching the model")
        await wait_until(lambda: session.state is SessionState.IDLE and "ACK nudge" in session.screen.text(),
                         30, "Claude idle after answering the nudge")
        time.sleep(1.0)
    finally:
        await mgr.close()
    assert len(delivered) == 1 and delivered[0].message == nudge
    main = [r for r in fake_model.requests if r["conv"] and r["conv"]["has_tools"]]
    last = main[-1]["conv"]["user_texts"]
    assert sum(t.count(nudge) for t in last) == 1, last  # in the conversation exactly once
    assert sum(1 for p in fake_model.prompts("anthropic") if nudge in p) == 1, fake_model.prompts()
    assert not any(t.strip() == "" for t in last)
    print(f"  nudge delivered with {delivered[0].enters} Enter(s); prompts seen: {fake_model.prompts()}")


async def test_api_errors_read_as_working_by_the_retry_rule(tmp_path, fake_model):
    town, result, mgr, session, events = await _session(tmp_path, fake_model, "fail 529", asks=False)
    try:
        await wait_until(lambda: re.search(r"[Rr]etrying in \d+s · attempt", session.screen.text()), 30,
                         "Claude retrying")
        # The session keeps the rule that made it enter a state; ask the preset's rules about this screen.
        detector = Detector(list(session.preset.rules), preset="claude", version=session.cli_version)
        state, rule, detail = detector.classify(Observation(
            session.screen.lines(), session.screen.cursor.y, session.screen.title, session.osc7501,
            time.monotonic(), session.last_output_at))
        print(f"\n  {state} [{rule}] {detail}")
        assert (state, rule) == (SessionState.WORKING, "claude.working.api-retry")
        await wait_until(lambda: session.state is SessionState.WORKING, 10, "the session to say working")
    finally:
        await mgr.close()
    fails = [r for r in fake_model.requests if r["decision"] and isinstance(r["decision"], dict)
             and r["decision"]["fail"] == 529]
    assert fails, "the fake model never answered 529"
