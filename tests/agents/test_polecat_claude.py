"""A Claude Code polecat end to end: sling -> beacon -> gt prime, write, commit, gt done -> MR -> merged."""
from __future__ import annotations

import time

import pytest
from fake_model import Say, Shell, Write
from agent_townkit import agent_spec, git, make_town, mrs, new_bead, run_refinery, wait_until

from gastown_tui.patrols.gupp import beacon
from gastown_tui.sessions.manager import SessionManager
from gastown_tui.sessions.states import SessionState, StateChange
from gastown_tui.town.sling import sling

pytestmark = pytest.mark.agents


def polecat_script(brain, path: str, text: str, message: str):
    """The work a polecat's model does after its beacon: prime, write, commit, done."""
    brain.add(r"\[GAS TOWN\]",
              Shell("gt prime --hook"),
              Write(path, text),
              Shell(f"git add {path} && git commit -q -m '{message}' && git log --oneline -1"),
              Shell("gt done"),
              Say("DONE: submitted to the merge queue."))


async def test_claude_polecat_slung_bead_to_merged(tmp_path, fake_model, brain):
    town, rig = make_town(tmp_path)
    bead = new_bead(rig, "Add hello.txt")
    polecat_script(brain, "hello.txt", "Hello from a Claude polecat\n", f"{bead}: add hello.txt")
    mgr = SessionManager(town.root)
    await mgr.start()
    changes: list[StateChange] = []
    mgr.add_listener(lambda e: changes.append(e) if isinstance(e, StateChange) else None)
    try:
        t0 = time.monotonic()
        result = sling(town, bead, rig.name)
        spec = agent_spec(town, result.agent, "claude", result.worktree, fake_model.url,
                          beacon=beacon(result.agent, rig.name, "mayor/", time.time()))
        session = await mgr.spawn(spec)
        mr = (await wait_until(lambda: mrs(town, rig.name), 60, "a merge request"))[0]
        elapsed = time.monotonic() - t0
        print(f"\nsling -> merge request with Claude Code: {elapsed:.1f} s (limit 20 s)")
        assert elapsed <= 20, f"sling -> MR took {elapsed:.1f}s"
        assert mr.source_bead == bead and mr.state == "queued"
        await wait_until(lambda: session.state is SessionState.IDLE and
                         any(r["conv"] and r["conv"]["turn"] == 4 for r in fake_model.requests),
                         30, "Claude back at its prompt after gt done")
    finally:
        await mgr.close()
    # The beacon arrived as the first prompt, and the model saw gt prime's output with the hook on it.
    first = next(r for r in fake_model.requests if r["conv"] and r["conv"]["has_tools"])
    assert first["conv"]["prompt"].startswith("[GAS TOWN]")
    prime_seen = next(r for r in fake_model.requests if r["conv"] and r["conv"]["turn"] == 1)
    assert bead in " ".join(prime_seen["conv"]["tool_results"])
    # The Refinery merges it.
    report = run_refinery(town, rig.name)
    assert [d.kind for d in report.did] == ["merge"], report
    assert git(rig.repo, "show", "main:hello.txt") == "Hello from a Claude polecat"
    from gastown_tui.town.mq import get_mr

    assert get_mr(town, mr.id).state == "merged"
    seen = [(c.new.value, c.rule) for c in changes]
    print("states:", " -> ".join(f"{s} [{r}]" for s, r in seen))
    states = [s for s, _ in seen]
    assert "working" in states and "idle" in states[states.index("working"):], seen
