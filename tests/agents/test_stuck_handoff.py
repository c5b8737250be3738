"""Stuck (the fake model stalls mid-stream; the Witness acts) and handoff + seance with Claude Code."""
from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pytest
from fake_model import Reply, Say, Shell
from townkit import agent_spec, make_town, new_bead, wait_until

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
