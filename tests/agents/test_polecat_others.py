"""The same slung-bead flow with Codex CLI, Gemini CLI, opencode and aider as the polecat."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from fake_model import Say, Shell, Write
from agent_townkit import Overseer, agent_spec, git, make_town, mrs, new_bead, run_refinery, wait_until

from gastown_tui.patrols.gupp import beacon
from gastown_tui.sessions.manager import SessionManager
from gastown_tui.sessions.states import SessionState, StateChange
from gastown_tui.town.mq import get_mr
from gastown_tui.town.sling import sling

pytestmark = pytest.mark.agents


changes_of: dict = {}  # town root -> its sessions' state changes (which agent ran)


async def _flow(tmp_path, fake_model, cli: str, on_state=None):
    town, rig = make_town(tmp_path)
    bead = new_bead(rig, f"Add {cli}.txt")
    mgr = SessionManager(town.root)
    await mgr.start()
    changes: list[StateChange] = []
    mgr.add_listener(lambda e: changes.append(e) if isinstance(e, StateChange) else None)
    try:
        t0 = time.monotonic()
        result = sling(town, bead, rig.name)
        spec = agent_spec(town, result.agent, cli, Path(result.worktree), fake_model.url,
                          beacon=beacon(result.agent, rig.name, "mayor/", time.time()))
        session = await mgr.spawn(spec)

        def check():
            if on_state:
                on_state(session)
            return mrs(town, rig.name)

        try:
            mr = (await wait_until(check, 60, f"a merge request from {cli}", interval=0.2))[0]
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nstate={session.state} ({session.state_rule}); screen:\n"
                                 f"{session.screen.text()}\nfake model: {fake_model.summary()}") from None
        print(f"\nsling -> merge request with {cli}: {time.monotonic() - t0:.1f} s")
        await wait_until(lambda: check() is not None and session.state is SessionState.IDLE, 30,
                         f"{cli} idle after gt done", interval=0.2)
    finally:
        await mgr.close()
    assert mr.source_bead == bead
    report = run_refinery(town, rig.name)
    assert [d.kind for d in report.did] == ["merge"], report
    assert get_mr(town, mr.id).state == "merged"
    seen = [(c.new.value, c.rule) for c in changes]
    print("states:", " -> ".join(f"{s} [{r}]" for s, r in seen))
    changes_of[town.root] = changes
    return town, rig, bead, seen


@pytest.mark.parametrize("cli", ["codex", "gemini", "opencode"])
async def test_codex_gemini_and_opencode_polecats_slung_bead_to_merged(tmp_path, fake_model, brain, cli):
    brain.add(r"\[GAS TOWN\]",
              Shell("gt prime --hook"),
              Write(f"{cli}.txt", f"Hello from a {cli} polecat\n"),
              Shell(f"git add {cli}.txt && git commit -q -m 'add {cli}.txt'"),
              Shell("gt done"),
              Say("DONE: submitted."))
    town, rig, bead, seen = await _flow(tmp_path, fake_model, cli)
    assert git(rig.repo, "show", f"main:{cli}.txt") == f"Hello from a {cli} polecat"
    prime = next(r for r in fake_model.requests if r["conv"] and r["conv"]["has_tools"] and r["conv"]["turn"] == 1)
    assert bead in " ".join(prime["conv"]["tool_results"])
    states = [s for s, _ in seen]
    assert "working" in states and "idle" in states[states.index("working"):], seen
    if cli == "codex":  # Codex draws on the alternate screen: seance reads its own session log
        from gastown_tui.town.seance import conversation_log, list_predecessors

        agent = next(c.agent for c in changes_of[town.root])
        path, turns = conversation_log(town, list_predecessors(town, agent)[0])
        assert "rollout-" in path.name and turns[-1].role == "assistant" and "DONE: submitted." in turns[-1].text, turns


async def test_aider_polecat_slung_bead_to_merged(tmp_path, fake_model, brain):
    """aider has no tool calls: one answer carries the edit (aider applies and commits it) and the
    shell commands, which aider always asks about; the Overseer (here, the test) answers yes."""
    brain.add(r"\[GAS TOWN\]", [Write("aider.txt", "Hello from an aider polecat\n"), Shell("gt prime --hook\ngt done")])
    overseer = Overseer()
    town, rig, bead, seen = await _flow(tmp_path, fake_model, "aider", on_state=overseer)
    assert git(rig.repo, "show", "main:aider.txt") == "Hello from an aider polecat"
    answered = overseer.answered
    assert answered and all(rule == "aider.needs-approval.question" for rule, _ in answered), answered
    assert any("Run shell command" in q for _, q in answered), answered
    print("approved:", [q for _, q in answered])
