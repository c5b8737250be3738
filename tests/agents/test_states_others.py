"""Codex and Gemini CLI under the session manager in a mode that asks: working -> needs-approval -> idle,
each with the rule that decided it."""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from agent_townkit import agent_spec, make_town, new_bead, wait_until

from gastown_tui.sessions.manager import SessionManager
from gastown_tui.sessions.presets import load_presets
from gastown_tui.sessions.states import SessionState, StateChange
from gastown_tui.town.sling import sling

pytestmark = pytest.mark.agents

CASES = {
    # cli: (argv of a mode that asks, prompt, approve keys, the needs-approval rules that may decide it)
    "codex": (("codex",), "run!: echo approved > ok.txt", b"y", ("codex.osc7501.blocked",)),
    # Gemini sets its title and draws its dialog in separate writes: whichever lands first decides.
    # "sleep 2": the model takes 2 s before answering, so the working state lasts long enough to be seen.
    "gemini": (("gemini",), "sleep 2 write ok.txt: approved", b"\r",
               ("gemini.needs-approval.title", "gemini.needs-approval.dialog")),
}


@pytest.mark.parametrize("cli", sorted(CASES))
async def test_states_with_approval(tmp_path, fake_model, cli):
    argv, prompt, keys, approval_rule = CASES[cli]
    town, rig = make_town(tmp_path)
    result = sling(town, new_bead(rig, "Approve me"), rig.name)
    preset = dataclasses.replace(load_presets()[cli], argv=argv)
    mgr = SessionManager(town.root)
    await mgr.start()
    events: list = []
    mgr.add_listener(events.append)
    work = Path(result.worktree)
    try:
        session = await mgr.spawn(agent_spec(town, result.agent, cli, work, fake_model.url, beacon=prompt,
                                             preset=preset))
        await wait_until(lambda: session.state is SessionState.NEEDS_APPROVAL, 40, f"{cli} asking")
        assert not (work / "ok.txt").exists()
        # The state can be known (Codex's OSC 7501) before the dialog takes keys: answer once the
        # screen has settled, and again if the dialog is still there (a person would do the same).
        for _attempt in range(3):
            await wait_until(lambda: time.monotonic() - session.last_output_at > 0.5, 10, f"{cli} dialog drawn")
            session.write(keys)
            try:
                await wait_until(lambda: (work / "ok.txt").exists(), 8, f"{cli} doing the approved action")
                break
            except AssertionError:
                if session.state is not SessionState.NEEDS_APPROVAL:
                    raise
        assert (work / "ok.txt").exists(), f"{cli} never did the approved action"
        await wait_until(lambda: session.state is SessionState.IDLE and "DONE" in session.screen.text(), 20,
                         f"{cli} idle again")
    finally:
        await mgr.close()
    seen = [(e.new.value, e.rule) for e in events if isinstance(e, StateChange)]
    print(f"\n  {cli}: " + " -> ".join(f"{s} [{r}]" for s, r in seen))
    states = [s for s, _ in seen]
    w = states.index("working")
    a = states.index("needs-approval", w)
    assert seen[a][1] in approval_rule
    assert "idle" in states[a:]
    assert all(r.startswith(f"{cli}.") for s, r in seen if s != "exited"), seen
