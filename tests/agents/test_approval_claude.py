"""The acceptance test of issue 16: a Claude Code polecat asked for approval is seen, escalated and answered.

A polecat runs Claude Code (the newest pin) WITHOUT --dangerously-skip-permissions behind the fake model
server, so 2.1.337's auto mode cannot run its server-side check and opens "Auto mode can't check actions
in this session … Enter to stay in auto mode" for a risky command. Within 2 s of that dialog on screen the
session says needs-approval; the town's read model puts it in Needs you; the Witness escalates it when
nobody answers; the keys the app would send from the agent's pane answer it, and the polecat finishes
(`gt done`, merged by the Refinery). Then `gastown seance` of the reaped polecat shows its last turns.
"""
from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import time

import pytest
from fake_model import Say, Shell, Write
from agent_townkit import agent_spec, git, make_town, mrs, new_bead, run_refinery, wait_until

from gastown_tui.patrols.actions import Actions
from gastown_tui.patrols.base import RunContext
from gastown_tui.patrols.observe import Observer
from gastown_tui.patrols.witness import Witness, WitnessThresholds
from gastown_tui.patrols.gupp import beacon
from gastown_tui.sessions.manager import SessionManager
from gastown_tui.sessions.presets import load_presets
from gastown_tui.sessions.states import SessionState, StateChange
from gastown_tui.town.sling import sling

pytestmark = pytest.mark.agents

DIALOG = "Enter to stay in auto mode"


def _needs_you(town, session):
    from gastown_tui.server.api import reading_of
    from gastown_tui.ui.town_view import Live, TownViewBuilder

    live = {session.agent: Live(state=session.state.value, since=time.time(), rule=session.state_rule)}
    return TownViewBuilder(town.root).to_view(reading_of(town), live, set(), managing_sessions=True).needs_you


async def _answer(session, keys: list[str], until: str, timeout: float = 20.0):
    """What the Overseer does in the agent's pane: waits for the dialog to be drawn, presses KEYS."""
    await wait_until(lambda: until in session.screen.text(), timeout, f"{until!r} on screen")
    await wait_until(lambda: time.monotonic() - session.last_output_at > 0.5, 10, "the dialog drawn")
    for key in keys:
        session.send_key(key)
        await asyncio.sleep(0.3)  # Ink reads one key per frame; two in one read may be taken as a paste


async def test_claude_polecat_at_the_auto_mode_dialog_needs_approval_is_escalated_and_answered(
        tmp_path, fake_model, brain):
    town, rig = make_town(tmp_path)
    bead = new_bead(rig, "Add notes.txt")
    brain.add(r"\[GAS TOWN\]",
              Shell("gt prime --hook"),
              Shell("git push origin main; echo pushed-or-not"),  # risky: auto mode asks
              Write("notes.txt", "Notes from an approved polecat\n"),
              Shell(f"git add notes.txt && git commit -q -m '{bead}: add notes.txt' && gt done"),
              Say("POLECAT-LAST-WORDS: notes.txt is in the merge queue."))
    preset = dataclasses.replace(load_presets()["claude"], argv=("claude",), resume_argv=("claude", "--continue"))
    mgr = SessionManager(town.root)
    await mgr.start()
    changes: list[StateChange] = []
    mgr.add_listener(lambda e: changes.append(e) if isinstance(e, StateChange) else None)
    dialog_seen: list[float] = []
    try:
        result = sling(town, bead, rig.name)
        session = await mgr.spawn(agent_spec(town, result.agent, "claude", result.worktree, fake_model.url,
                                             beacon=beacon(result.agent, rig.name, "mayor/", time.time()),
                                             preset=preset))
        session.add_output_listener(
            lambda s: dialog_seen.append(time.time()) if not dialog_seen and DIALOG in s.screen.text() else None)
        await wait_until(lambda: dialog_seen, 60, "the auto-mode dialog on screen")
        await wait_until(lambda: session.state is SessionState.NEEDS_APPROVAL, 5, "needs-approval")
        change = next(c for c in changes if c.new is SessionState.NEEDS_APPROVAL)
        lag = change.at - dialog_seen[0]
        print(f"\n  dialog on screen -> needs-approval [{change.rule}] in {lag:.2f} s (limit 2 s)")
        assert change.rule == "claude.needs-approval.auto-mode" and lag <= 2.0, (change.rule, lag)

        # Needs you, in the town's read model.
        items = await asyncio.to_thread(_needs_you, town, session)
        assert [(i.kind, i.agent) for i in items if i.agent == result.agent] == [("approval", result.agent)], items

        # Nobody answers: the Witness escalates (thresholds shortened; the default is 15 min).
        th = WitnessThresholds(stalled_after=2.0, spawn_grace=0.0)
        witness = Witness(rig.name, Observer(town, mgr), Actions(town, mgr, asyncio.get_running_loop()), th)
        escalations = []
        end = time.monotonic() + 20
        while not escalations and time.monotonic() < end:
            await asyncio.sleep(0.5)
            report = await asyncio.to_thread(witness.run, RunContext(time.time(), "manual"))
            escalations = [d for d in report.did if d.kind == "escalate" and d.detail.get("agent") == result.agent]
        assert escalations, "the Witness did not escalate a polecat waiting at a dialog"
        assert session.state is SessionState.NEEDS_APPROVAL  # nothing but a person moved it
        items = await asyncio.to_thread(_needs_you, town, session)
        assert any(i.kind == "escalation" for i in items), items

        # The Overseer answers from the agent's pane: stay in auto mode, then "Yes" to the action.
        await _answer(session, ["enter"], DIALOG)
        await _answer(session, ["down", "enter"], "Do you want to proceed?")
        # Later actions may ask too: answer each the same way until the polecat is done.
        end = time.monotonic() + 90
        while not mrs(town, rig.name) and time.monotonic() < end:
            if session.state is SessionState.NEEDS_APPROVAL:
                text = session.screen.text()
                if DIALOG in text:
                    await _answer(session, ["enter"], DIALOG)
                elif "❯ No" in text:
                    await _answer(session, ["down", "enter"], "Do you want to proceed?")
                elif "Do you want to" in text:
                    await _answer(session, ["enter"], "Do you want to")
            await asyncio.sleep(0.3)
        mr = (await wait_until(lambda: mrs(town, rig.name), 5, "a merge request"))[0]
        await wait_until(lambda: "POLECAT-LAST-WORDS" in session.conversation_text(), 30, "its last words")
        await wait_until(lambda: session.state is SessionState.IDLE, 20, "idle after gt done")
    finally:
        await mgr.close()
    assert mr.source_bead == bead
    report = await asyncio.to_thread(run_refinery, town, rig.name)
    assert [d.kind for d in report.did] == ["merge"], report
    assert git(rig.repo, "show", "main:notes.txt") == "Notes from an approved polecat"

    # seance of the finished polecat: its last turns, from Claude Code's own log and the kept screen text.
    from gastown_tui.town.polecats import reap_polecat

    await asyncio.to_thread(reap_polecat, town, rig.name, result.agent.rsplit("/", 1)[1])
    short = result.agent.replace("/polecats/", "/")
    out = subprocess.run([sys.executable, "-m", "gastown_tui.cli", "seance", short],
                         capture_output=True, text=True, env={**os.environ, "GT_TOWN": str(town.root)},
                         cwd=town.root, timeout=60)
    assert out.returncode == 0, out.stderr
    print("\n".join(out.stdout.splitlines()[-14:]))
    conv = out.stdout.split("--- conversation of", 1)
    assert len(conv) == 2 and "POLECAT-LAST-WORDS" in conv[1].split("--- transcript tail")[0], out.stdout
    transcript = (session.transcript_dir / "transcript.txt").read_text()
    assert "POLECAT-LAST-WORDS" in transcript and "Resume this session" in transcript
