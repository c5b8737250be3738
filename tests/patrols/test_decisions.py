"""Witness and Deacon decisions on built situations, with a fake clock."""
from __future__ import annotations

from gastown_tui.patrols import deacon, witness
from gastown_tui.patrols.facts import (ConvoyFacts, EscalationFacts, RigFacts, SessionFacts, TownFacts, TrackedFacts,
                                       WorkerFacts)

T0 = 1_800_000_000.0
MIN = 60.0


def polecat(name="nux", hook="gt-1", state="working", alive=True, quiet_min=0.0, age_min=60.0, **kw):
    session = SessionFacts(alive=alive, state=state, started_at=T0 - age_min * MIN,
                          last_change_at=T0 - quiet_min * MIN, state_rule="test")
    return WorkerFacts(address=f"gastown/polecats/{name}", rig="gastown", hook=hook, session=session, **kw)


def kinds(decisions):
    return [(d.kind, d.target) for d in decisions]


def test_working_polecat_quiet_for_14_minutes_is_left_alone():
    rig = RigFacts("gastown", workers=[polecat(quiet_min=14)])
    assert witness.decide(rig, T0, witness.WitnessMemory()) == []


def test_stalled_15_minutes_gets_one_nudge_per_quiet_spell():
    mem = witness.WitnessMemory()
    rig = RigFacts("gastown", workers=[polecat(quiet_min=15)])
    first = witness.decide(rig, T0, mem)
    assert kinds(first) == [("nudge", "gastown/polecats/nux")]
    assert first[0].bead == "gt-1" and "15 min" in first[0].reason
    # five minutes later, still the same quiet spell: no second nudge
    rig.workers[0].session.last_change_at = T0 - 15 * MIN
    assert witness.decide(rig, T0 + 5 * MIN, mem) == []
    # the screen changed, then went quiet again for 15 minutes: nudged again
    rig.workers[0].session.last_change_at = T0 + 10 * MIN
    assert kinds(witness.decide(rig, T0 + 25 * MIN, mem)) == [("nudge", "gastown/polecats/nux")]


def test_hung_30_minutes_is_restarted():
    mem = witness.WitnessMemory()
    decisions = witness.decide(RigFacts("gastown", workers=[polecat(quiet_min=30, state="stuck")]), T0, mem)
    assert kinds(decisions) == [("restart", "gastown/polecats/nux")]
    assert decisions[0].detail["why"] == "hung"


def test_dead_process_with_work_on_its_hook_is_restarted_then_escalated_after_three():
    mem = witness.WitnessMemory()
    dead = RigFacts("gastown", workers=[polecat(alive=False, state="exited")])
    for attempt in (1, 2, 3):
        d = witness.decide(dead, T0 + attempt, mem)
        assert kinds(d) == [("restart", "gastown/polecats/nux")] and d[0].detail["attempt"] == attempt
    d = witness.decide(dead, T0 + 10, mem)
    assert kinds(d) == [("escalate", "overseer")] and "3 times" in d[0].reason
    assert witness.decide(dead, T0 + 20, mem) == []  # escalated once, not every run


def test_never_started_or_unknown_sessions_are_left_to_gupp():
    w = WorkerFacts("gastown/polecats/slit", "gastown", hook="gt-2", session=None)
    assert witness.decide(RigFacts("gastown", workers=[w]), T0, witness.WitnessMemory()) == []
    dead = polecat(alive=False, state="exited")
    unknown = RigFacts("gastown", workers=[dead], sessions_known=False)  # no session manager in this process
    assert witness.decide(unknown, T0, witness.WitnessMemory()) == []


def test_idle_polecat_without_a_hook_and_fresh_sessions_are_not_touched():
    idle = WorkerFacts("gastown/polecats/toast", "gastown", hook=None, session=None)
    young = polecat(name="rictus", quiet_min=20, age_min=0.5)  # inside the spawn grace
    assert witness.decide(RigFacts("gastown", workers=[idle, young]), T0, witness.WitnessMemory()) == []


def test_finished_polecat_gets_its_merge_request_checked_once():
    mem = witness.WitnessMemory()
    done = polecat(alive=False, state="exited", done=True, mr="gt-mr-1", mr_state="queued")
    rig = RigFacts("gastown", workers=[done])
    d = witness.decide(rig, T0, mem)
    assert kinds(d) == [("check_mr", "gastown/refinery")] and d[0].bead == "gt-mr-1"
    assert witness.decide(rig, T0 + 60, mem) == []
    # finished with no MR at all: escalate (no restart: the work is not lost, a person must look)
    lost = polecat(name="slit", hook="gt-2", alive=False, state="exited", done=True)
    assert kinds(witness.decide(RigFacts("gastown", workers=[lost]), T0, mem)) == [("escalate", "overseer")]


def test_waiting_at_an_approval_prompt_is_escalated_not_restarted():
    d = witness.decide(RigFacts("gastown", workers=[polecat(state="needs-approval", quiet_min=16)]), T0,
                       witness.WitnessMemory())
    assert kinds(d) == [("escalate", "overseer")] and "approval" in d[0].reason


def test_witness_never_decides_to_remove_anything():
    mem = witness.WitnessMemory()
    situations = [polecat(quiet_min=q, state=s, alive=a, done=dn, mr=m, has_unmerged_work=True)
                  for q in (0, 16, 31, 120) for s in ("working", "idle", "stuck", "exited", "needs-approval")
                  for a in (True, False) for dn in (True, False) for m in (None, "gt-mr-9")]
    for i, w in enumerate(situations):
        w.address = f"gastown/polecats/p{i}"
        w.hook = f"gt-{i}"
    all_kinds = {d.kind for d in witness.decide(RigFacts("gastown", workers=situations), T0, mem)}
    assert all_kinds <= {"nudge", "restart", "escalate", "check_mr"}


def test_idle_polecat_with_nothing_on_its_hook_is_retired_after_15_minutes():
    mem = witness.WitnessMemory()
    rig = RigFacts("gastown", workers=[polecat(hook=None, state="idle", quiet_min=14)])
    assert witness.decide(rig, T0, mem) == []
    rig.workers[0].session.last_change_at = T0 - 15 * MIN
    assert kinds(witness.decide(rig, T0, mem)) == [("stop_session", "gastown/polecats/nux")]
    rig.workers[0].session.state = "working"  # busy with something: left alone
    assert witness.decide(rig, T0, mem) == []


# ---------------------------------------------------------------- Deacon

def convoy(cid, *tracked, status="open"):
    return ConvoyFacts(cid, f"convoy {cid}", status, list(tracked))


def test_deacon_ensures_each_rigs_witness_and_refinery():
    view = TownFacts(rigs=[RigFacts("gastown"), RigFacts("beads")], patrols={"witness:gastown", "refinery:gastown"})
    assert kinds(deacon.decide(view, T0)) == [("ensure_patrol", "witness:beads"), ("ensure_patrol", "refinery:beads")]


def test_stranded_convoy_is_fed_within_the_rigs_capacity():
    busy = polecat(name="nux", hook="gt-1")
    view = TownFacts(
        rigs=[RigFacts("gastown", max_polecats=2, workers=[busy])],
        convoys=[convoy("hq-cv-1",
                        TrackedFacts("gt-1", "gastown", "hooked", assignee=busy.address),
                        TrackedFacts("gt-2", "gastown", "open", ready=True),
                        TrackedFacts("gt-3", "gastown", "open", ready=True),
                        TrackedFacts("gt-4", "gastown", "open", ready=False))],  # blocked
        patrols={"witness:gastown", "refinery:gastown"},
    )
    d = deacon.decide(view, T0)
    assert kinds(d) == [("sling", "gastown")] and d[0].bead == "gt-2"  # one slot free: one sling
    # a convoy with ready work and nobody on it is stranded
    view.convoys[0].tracked[0] = TrackedFacts("gt-1", "gastown", "closed")
    view.rigs[0].workers = []
    assert deacon.stranded(view) == ["hq-cv-1"]
    assert [x.bead for x in deacon.decide(view, T0)] == ["gt-2", "gt-3"]


def test_convoy_lands_when_everything_is_closed_but_never_when_empty():
    view = TownFacts(convoys=[convoy("hq-cv-1", TrackedFacts("gt-1", "gastown", "closed"),
                                    TrackedFacts("gt-2", "gastown", "closed")),
                             convoy("hq-cv-2")])
    assert kinds(deacon.decide(view, T0)) == [("land_convoy", "hq-cv-1")]


def test_unrouted_escalations_go_to_the_overseer_once():
    view = TownFacts(escalations=[EscalationFacts("hq-e1", "nux stuck", "high"),
                                 EscalationFacts("hq-e2", "old", routed=True)])
    d = deacon.decide(view, T0)
    assert kinds(d) == [("route_escalation", "overseer")] and d[0].bead == "hq-e1"


def test_feeding_stops_at_the_per_run_limit():
    tracked = [TrackedFacts(f"gt-{i}", "gastown", "open", ready=True) for i in range(10)]
    view = TownFacts(rigs=[RigFacts("gastown", max_polecats=10)], convoys=[convoy("hq-cv-1", *tracked)],
                    patrols={"witness:gastown", "refinery:gastown"})
    assert len(deacon.decide(view, T0, deacon.DeaconSettings(feed_per_run=3))) == 3


def test_witness_says_when_the_next_threshold_comes_due():
    th = witness.WitnessThresholds()
    rig = RigFacts("gastown", workers=[polecat(quiet_min=10)])
    assert witness.next_due(rig, T0, th) == 5 * MIN  # stalled at 15 min
    rig.workers[0].session.last_change_at = T0 - 20 * MIN
    assert witness.next_due(rig, T0, th) == 10 * MIN  # hung at 30 min
    assert witness.next_due(RigFacts("gastown", workers=[polecat(state="idle")]), T0, th) is None
