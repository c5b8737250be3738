"""Stuck (the fake model stalls mid-stream; the Witness acts) and handoff + seance with Claude Code."""
from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pytest
from fake_model import Reply, Say, Shell
from agent_townkit import agent_spec, make_town, new_bead, wait_until

from gastown_tui.patrols.actions import Actions
from gastown_tui.patrols.base import RunContext
from gastown_tui.patrols.gupp import beacon
from gastown_tui.patrols.observe import Observer
from gastown_tui.patrols.witness import Witness, WitnessThresholds
from gastown_tui.sessions.manager import SessionManager
from gastown_tui.sessions.presets import load_presets
from gastown_tui.sessions.states import NudgeDelivered, SessionState, StateChange
from gastown_tui.town.sling import sling

pytestmark = pytest.mark.agents


async def test_a_stalled_stream_makes_claude_stuck_and_the_witness_nudges_it(tmp_path, fake_model, brain):
    brain.add(r"\[GAS TOWN\]", Reply(actions=[Say("Let me think about this carefully")], stall=120))
    town, rig = make_town(tmp_path)
    result = sling(town, new_bead(rig, "Think hard"), rig.name)
    preset = dataclasses.replace(load_presets()["claude"], stuck_after=3.0)
    mgr = SessionManager(town.root)
    await mgr.start()
    events: list = []
    mgr.add_listener(events.append)
    try:
        session = await mgr.spawn(agent_spec(town, result.agent, "claude", Path(result.worktree), fake_model.url,
                                             beacon=beacon(result.agent, rig.name, "mayor/", time.time()),
                                             preset=preset))
        await wait_until(lambda: session.state is SessionState.STUCK, 40, "the stuck state")
        stuck = [e for e in events if isinstance(e, StateChange) and e.new is SessionState.STUCK][-1]
        print(f"\n  stuck: {stuck.rule}: {stuck.detail}")
        assert stuck.rule == "timing.stuck"
        loop = asyncio.get_running_loop()
        witness = Witness(rig.name, Observer(town, sessions=mgr), Actions(town, sessions=mgr, loop=loop),
                          thresholds=WitnessThresholds(stalled_after=2.0, hung_after=600, spawn_grace=0))
        report = await asyncio.to_thread(witness.run, RunContext(now=time.time(), reason="manual"))
        kinds = [(d.kind, d.reason) for d in report.did]
        print(f"  witness: {kinds}")
        assert [k for k, _ in kinds] == ["nudge"] and "stalled" in kinds[0][1]
        delivered = await wait_until(lambda: [e for e in events if isinstance(e, NudgeDelivered)], 20,
                                     "the Witness's nudge typed into the stuck session")
        assert delivered[0].sender == f"{rig.name}/witness" and "stalled" in delivered[0].message
    finally:
        await mgr.close()


async def test_handoff_replaces_the_session_the_new_one_takes_the_hook_and_seance_shows_the_old(
        tmp_path, fake_model, brain):
    import os
    import subprocess
    import sys

    from gastown_tui.patrols.runtime import TownRuntime
    from gastown_tui.patrols.settings import PatrolSettings
    from gastown_tui.town.events import read_events
    from gastown_tui.town.handoff import pending_handoff

    town, rig = make_town(tmp_path)
    bead = new_bead(rig, "A long job")
    result = sling(town, bead, rig.name)
    # First session: primes, leaves a note for its successor, hands off, says goodbye (and its turn ends).
    brain.add(r"topic: assigned|• assigned", Shell("gt prime --hook"),
              Shell("gt handoff -m 'context is full; carry on with the README'"),
              Say("PREDECESSOR-SAYS-GOODBYE: handing off now."))
    # Its successor: primes (finds the same hook) and reports.
    brain.add(r"• handoff", Shell("gt prime --hook"), Say("SUCCESSOR: picked up my hook."))
    mgr = SessionManager(town.root)
    await mgr.start()
    # Only the handoff patrol: this is about the runtime acting on the marker, not GUPP or the Witness.
    settings = PatrolSettings(backoff_base=1.0, backoff_max=5.0,
                              disabled=["deacon", "boot", "dogs", "gupp", "witness", "refinery"])
    rt = TownRuntime(town.root, sessions=mgr, settings=settings)
    try:
        first = await mgr.spawn(agent_spec(town, result.agent, "claude", Path(result.worktree), fake_model.url,
                                           beacon=beacon(result.agent, rig.name, "mayor/", time.time())))
        await rt.start()
        await wait_until(lambda: pending_handoff(town, result.agent) or mgr.get(result.agent) is not first, 40,
                         "the handoff marker")
        # The runtime lets the turn end (the goodbye), stops the old session and starts a fresh one.
        second = await wait_until(lambda: (s := mgr.get(result.agent)) is not first and s, 60,
                                  "the runtime replacing the session")
        assert not first.alive and first.exit_status == 0, f"the old session was not stopped politely: {first.exit_status}"
        # Claude Code 2.1.337 draws on the alternate screen: its last screen holds only "Resume this session
        # with …"; what it said is kept as the screen changed.
        assert "PREDECESSOR-SAYS-GOODBYE" in first.conversation_text(), "replaced before its turn ended"
        # ... and written back into its screen at exit: the finished agent's pane shows its last words.
        assert "PREDECESSOR-SAYS-GOODBYE" in first.screen.text(), first.screen.text()
        assert "• handoff" in " ".join(second.argv), second.argv   # the start-up beacon (GUPP) says why
        await wait_until(lambda: "SUCCESSOR: picked up my hook" in second.screen.text(), 40, "the successor's report")
    finally:
        await rt.stop()
        await mgr.close()
    assert pending_handoff(town, result.agent) is None, "the runtime did not consume the marker"
    replaced = [e for e in read_events(town.events_path) if e.type == "session_replaced"]
    assert [(e.payload["agent"], e.payload["old_session"], e.payload["new_session"]) for e in replaced] == \
        [(result.agent, first.id, second.id)]
    primes = [r for r in fake_model.requests if r["conv"] and r["conv"]["has_tools"] and r["conv"]["turn"] == 1
              and "• handoff" in r["conv"]["prompt"]]
    assert primes and bead in " ".join(primes[-1]["conv"]["tool_results"]), "the successor's gt prime shows the hook"
    from gastown_tui.town.mail import inbox

    notes = [m for m in inbox(town, result.agent) if m.subject.startswith("🤝 HANDOFF")]
    assert len(notes) == 1 and "carry on with the README" in notes[0].subject + notes[0].body, notes
    out = subprocess.run([sys.executable, "-m", "gastown_tui.cli", "seance", result.agent, "--session", first.id],
                         capture_output=True, text=True, env={**os.environ, "GT_TOWN": str(town.root)},
                         cwd=town.root)
    assert out.returncode == 0, out.stderr
    assert "PREDECESSOR-SAYS-GOODBYE" in out.stdout, out.stdout[-2000:]
    print(f"\n  seance of {first.id}:\n" + "\n".join(out.stdout.splitlines()[-6:]))
