"""The Witness reaps polecats whose work has landed (decisions with a fake clock, then on a real town
with a real session), and refuses without touching anything while work would be lost."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

from gastown_tui.patrols import witness
from gastown_tui.patrols.facts import RigFacts, SessionFacts, WorkerFacts

from .townkit import git, make_town

T0 = 1_800_000_000.0
ADDR = "textkit/polecats/nux"


def finished(state="idle", alive=True, **kw):
    session = SessionFacts(alive=alive, state=state, started_at=T0 - 3600, last_change_at=T0 - 5, state_rule="t")
    fields = {"hook": None, "agent_state": "done", **kw}
    return WorkerFacts(address=ADDR, rig="textkit", session=session, **fields)


def kinds(decisions):
    return [(d.kind, d.target) for d in decisions]


def test_a_finished_polecat_idle_or_gone_is_proposed_for_reaping():
    for w in (finished(), finished(alive=False, state="exited"), WorkerFacts(ADDR, "textkit", agent_state="done")):
        assert kinds(witness.decide(RigFacts("textkit", workers=[w]), T0, witness.WitnessMemory())) == [("reap", ADDR)]


def test_no_reap_while_busy_hooked_unsubmitted_in_the_queue_or_sessions_unknown():
    busy = finished(state="working")
    rig = RigFacts("textkit", workers=[busy])
    assert witness.decide(rig, T0, witness.WitnessMemory()) == []
    assert witness.next_due(rig, T0) == witness.WitnessThresholds().reap_wait  # looked at again soon
    cases = [finished(hook="gt-9"), finished(open_mrs=1), finished(agent_state="idle")]
    for w in cases:
        decided = witness.decide(RigFacts("textkit", workers=[w]), T0, witness.WitnessMemory())
        assert ("reap", ADDR) not in kinds(decided), w
    unknown = RigFacts("textkit", workers=[finished()], sessions_known=False)
    assert witness.decide(unknown, T0, witness.WitnessMemory()) == []


def test_a_refused_reap_is_not_proposed_again_until_reap_retry():
    mem = witness.WitnessMemory(reap_refused={ADDR: T0})
    rig = RigFacts("textkit", workers=[finished()])
    th = witness.WitnessThresholds(reap_retry=300)
    assert witness.decide(rig, T0 + 299, mem, th) == []
    assert kinds(witness.decide(rig, T0 + 300, mem, th)) == [("reap", ADDR)]


# ---------------------------------------------------------------------------------------------- live
async def test_the_witness_stops_the_session_and_reaps_only_once_nothing_would_be_lost(tmp_path):
    from gastown_tui.patrols.actions import Actions
    from gastown_tui.patrols.base import RunContext
    from gastown_tui.patrols.observe import Observer
    from gastown_tui.patrols.refinery import Refinery
    from gastown_tui.sessions.manager import SessionManager
    from gastown_tui.sessions.session import SessionSpec
    from gastown_tui.sessions.states import SessionState
    from gastown_tui.town.done import submit_done
    from gastown_tui.town.ledgers import open_ledger
    from gastown_tui.town.sling import sling

    town, rig = make_town(tmp_path, merge_queue={"run_tests": False, "gate": ""})
    bead = open_ledger(rig.beads_dir).create("Shout")
    res = sling(town, bead.id, rig.name, no_convoy=True)
    wt = Path(res.worktree)
    (wt / "shout.txt").write_text("HELLO\n")
    git(wt, "add", "-A")
    git(wt, "commit", "-q", "-m", "shout")
    await asyncio.to_thread(submit_done, town, wt)
    mgr = SessionManager(town.root)
    await mgr.start()
    try:
        session = await mgr.spawn(SessionSpec(res.agent, "shell", cwd=wt, town=town.root))
        assert await session.wait_state({SessionState.IDLE}, timeout=20)
        w = witness.Witness(rig.name, Observer(town, mgr), Actions(town, mgr, asyncio.get_running_loop()))

        def run():
            return w.run(RunContext(time.time(), "manual")).did

        assert [d.kind for d in await asyncio.to_thread(run)] == ["check_mr"]   # its MR is still queued: no reap
        refinery = await asyncio.to_thread(Refinery(town, rig.name).run, RunContext(time.time(), "manual"))
        assert [d.kind for d in refinery.did] == ["merge"]
        (wt / "scratch.txt").write_text("left behind\n")                # uncommitted: refused, session kept
        did = await asyncio.to_thread(run)
        assert kinds(did) == [("reap", res.agent)] and did[0].done is False
        assert "scratch.txt" in " ".join(did[0].detail["refused"])
        assert session.alive and wt.is_dir() and mgr.get(res.agent) is session
        assert await asyncio.to_thread(run) == []                        # not again before reap_retry
        (wt / "scratch.txt").unlink()
        w.memory.reap_refused.clear()
        did = await asyncio.to_thread(run)
        assert kinds(did) == [("reap", res.agent)] and did[0].done, did[0].detail
        assert session.exited and mgr.get(res.agent) is None
        assert not wt.exists() and not git(rig.repo, "branch", "--list", res.branch)
        assert "HELLO" in git(rig.repo, "show", "main:shout.txt")
        again = open_ledger(rig.beads_dir).create("Whisper")
        nxt = await asyncio.to_thread(sling, town, again.id, rig.name, no_convoy=True)
        assert nxt.spawned and nxt.agent == res.agent and Path(nxt.worktree).is_dir()   # the name came back
        assert mgr.get(nxt.agent) is None          # no stale session: GUPP starts a fresh one for the new work
        assert [d.kind for d in await asyncio.to_thread(run)] == []      # hooked, no session yet: GUPP's, not ours
    finally:
        await mgr.close()
