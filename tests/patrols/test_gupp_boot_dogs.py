"""GUPP, Boot, the dogs and the patrol settings."""
from __future__ import annotations

import contextvars
import json
import threading
import time

import pytest

from gastown_tui.errors import UserError
from gastown_tui.patrols import boot, gupp
from gastown_tui.patrols.base import Decision, RunContext
from gastown_tui.patrols.dogs import Dogs, branch_dog, orphan_dog, wisp_dog
from gastown_tui.patrols.refinery import KEPT_PREFIX, Refinery
from gastown_tui.patrols.settings import load_patrol_settings
from gastown_tui.patrols.facts import RigFacts, SessionFacts, WorkerFacts

from .townkit import git, make_town, submit

T0 = 1_800_000_000.0


# ------------------------------------------------------------------ GUPP
def worker(state="idle", quiet=120.0, session=True, done=False, hook="gt-1"):
    s = SessionFacts(True, state, T0 - 600, T0 - quiet) if session else None
    return WorkerFacts("gastown/polecats/nux", "gastown", hook=hook, session=s, done=done)


def test_gupp_starts_a_session_for_hooked_work_with_the_beacon_once():
    mem = gupp.GuppMemory()
    d = gupp.decide([RigFacts("gastown", workers=[worker(session=False)])], T0, mem)
    assert [(x.kind, x.target) for x in d] == [("start", "gastown/polecats/nux")]
    assert d[0].detail["beacon"].startswith("[GAS TOWN] polecat nux (rig: gastown) <- gupp")
    assert "gt prime" in d[0].detail["beacon"]
    assert gupp.decide([RigFacts("gastown", workers=[worker(session=False)])], T0 + 5, mem) == []  # cooldown


def test_gupp_nudges_an_idle_agent_with_work_once_per_idle_spell():
    mem = gupp.GuppMemory()
    rig = RigFacts("gastown", workers=[worker(quiet=61)])
    d = gupp.decide([rig], T0, mem)
    assert [x.kind for x in d] == ["nudge"] and "gt prime" in d[0].detail["message"]
    assert gupp.decide([rig], T0 + 30, mem) == []
    assert gupp.decide([RigFacts("gastown", workers=[worker(quiet=10)])], T0, gupp.GuppMemory()) == []
    # an agent that goes idle again after every nudge: after three, the Overseer hears about it, once
    mem = gupp.GuppMemory()
    kinds = []
    for spell in range(5):
        rig = RigFacts("gastown", workers=[worker(quiet=61)])
        rig.workers[0].session.last_change_at = T0 - 61 + spell  # a new idle spell each time
        kinds += [x.kind for x in gupp.decide([rig], T0 + spell, mem)]
    assert kinds == ["nudge", "nudge", "nudge", "escalate"]
    # submitted work, working sessions and agents without a hook are not GUPP's business
    for w in (worker(done=True), worker(state="working"), worker(hook=None)):
        assert gupp.decide([RigFacts("gastown", workers=[w])], T0, gupp.GuppMemory()) == []


def test_gupp_starts_side_by_side_so_a_slow_start_holds_up_no_other():
    """A start that takes long (a node across a broken link waits up to a session action's 60 s) does not keep
    GUPP from starting the other polecats with work on their hooks meanwhile; each start sees the run's
    context. The starts here stand in for the session actions: nux's ends only once slit's has gone through."""
    run = contextvars.ContextVar("run")
    run.set("gupp run 7")
    slit_started = threading.Event()
    seen = {}

    def apply(d, actor):
        seen[d.target] = (actor, run.get(None))
        if d.target.endswith("/nux"):
            assert slit_started.wait(20), "slit's start waited behind nux's"
        else:
            slit_started.set()
        return d

    starts = [Decision("start", "gastown/polecats/nux", "hooked"), Decision("start", "gastown/polecats/slit", "hooked")]
    gupp.start_side_by_side(apply, starts, actor="gupp")
    assert seen == {"gastown/polecats/nux": ("gupp", "gupp run 7"), "gastown/polecats/slit": ("gupp", "gupp run 7")}


# ------------------------------------------------------------------ Boot
def test_boot_nudges_a_stale_deacon_and_restarts_a_dead_one():
    st = boot.BootSettings(stale_after=600, very_stale_after=1200, grace=300)
    fresh = {"unix": T0 - 60}
    assert boot.decide(fresh, True, T0, T0 - 3600, st) == []
    assert [d.kind for d in boot.decide({"unix": T0 - 700}, True, T0, T0 - 3600, st)] == ["wake_deacon"]
    assert [d.kind for d in boot.decide({"unix": T0 - 1300}, True, T0, T0 - 3600, st)] == ["restart_deacon"]
    assert [d.kind for d in boot.decide(fresh, False, T0, T0 - 3600, st)] == ["restart_deacon"]
    assert boot.decide(None, True, T0, T0 - 60, st) == []  # just started: no heartbeat yet is fine
    assert [d.kind for d in boot.decide(None, True, T0, T0 - 400, st)] == ["restart_deacon"]


# ------------------------------------------------------------------ dogs
def test_branch_dog_deletes_only_branches_whose_work_is_on_main(tmp_path):
    town, rig = make_town(tmp_path)
    merged, _, _ = submit(town, rig, "merged", {"textkit/m.py": "M = 1\n"})
    conflicting, cat, _ = submit(town, rig, "pending", {"textkit/p.py": "P = 1\n"})
    Refinery(town, rig.name).run(RunContext(time.time(), "manual"))  # merges both
    pending, pcat, _ = submit(town, rig, "unmerged", {"textkit/u.py": "U = 1\n"})  # never merged
    git(rig.repo, "update-ref", f"{KEPT_PREFIX}/te-old", pending.commit_sha)  # a kept ref with unmerged work
    saw, did = branch_dog(town)
    deleted = {d.target for d in did}
    assert merged.branch in deleted and conflicting.branch in deleted
    assert pending.branch not in deleted and f"{KEPT_PREFIX}/te-old" not in {d.target for d in did}
    assert git(rig.repo, "rev-parse", pending.branch) == pending.commit_sha  # still there
    assert git(rig.repo, "rev-parse", f"{KEPT_PREFIX}/te-old") == pending.commit_sha
    assert saw["kept_unmerged"] >= 2
    # branches checked out in a polecat's worktree are never touched
    assert git(rig.mayor_clone, "rev-parse", pcat.branch)


def test_wisp_dog_burns_only_closed_wisps_past_their_ttl(tmp_path):
    town, rig = make_town(tmp_path)
    from gastown_tui.town.ledgers import open_ledger

    ledger = open_ledger(rig.beads_dir)
    old = ledger.create("old wisp", ephemeral=True)
    ledger.close(old.id)
    fresh = ledger.create("fresh wisp", ephemeral=True)
    ledger.close(fresh.id)
    open_wisp = ledger.create("open wisp", ephemeral=True)
    durable = ledger.create("durable bead")
    ledger.close(durable.id)
    closed_at = ledger.get(old.id).closed_at
    from datetime import datetime

    t_closed = datetime.fromisoformat(closed_at.replace("Z", "+00:00")).timestamp()
    # at t_closed + 2h with a 1h ttl: both closed wisps are old enough... make the fresh one younger
    saw, did = wisp_dog(town, now=t_closed + 30, ttl=3600)
    assert did == []
    saw, did = wisp_dog(town, now=t_closed + 7200, ttl=3600)
    burned = {d.target for d in did}
    assert burned == {old.id, fresh.id}
    assert ledger.find(old.id) is None and ledger.find(open_wisp.id) is not None
    assert ledger.find(durable.id) is not None  # not a wisp: never burned


def test_wisp_dog_burns_a_wisp_molecule_only_whole_never_the_closed_steps_of_an_open_one(tmp_path):
    from gastown_tui.meow import FormulaLibrary, close_step, formula_search_path, progress, wisp
    from gastown_tui.town.ledgers import open_ledger

    town, rig = make_town(tmp_path)
    ledger = open_ledger(rig.beads_dir)
    root = wisp(ledger, "boot-triage", {}, FormulaLibrary(formula_search_path()))
    steps = [s.id for s in progress(ledger, root).steps]
    assert len(steps) == 3
    close_step(ledger, steps[0])
    close_step(ledger, steps[1])                        # two of three done; the root is still open
    later = time.time() + 10 * 3600                     # long past the ttl for those two steps
    saw, did = wisp_dog(town, now=later, ttl=3600)
    assert did == [] and saw["kept_in_open_molecule"] == 2
    fresh = open_ledger(rig.beads_dir)
    p = progress(fresh, root)
    assert (p.done, p.total) == (2, 3)                  # the finished steps are still there
    assert p.next is not None and p.next.id == steps[2]

    close_step(ledger, steps[2])                        # the last step closes the root too
    assert ledger.raw(root)["status"] == "closed"
    saw, did = wisp_dog(town, now=time.time() + 60, ttl=3600)
    assert did == []                                    # closed, but not yet past its ttl
    saw, did = wisp_dog(town, now=time.time() + 2 * 3600, ttl=3600)
    assert [(d.kind, d.target, d.detail.get("steps")) for d in did] == [("burn_wisp", root, 3)]
    wisps = (rig.beads_dir / "wisps.jsonl").read_text()
    assert root not in wisps and root not in (rig.beads_dir / "issues.jsonl").read_text()


def test_orphan_dog_reopens_work_of_a_vanished_polecat_and_tells_the_deacon(tmp_path):
    import shutil

    town, rig = make_town(tmp_path)
    from gastown_tui.town.hooks import hook_bead
    from gastown_tui.town.ledgers import open_ledger
    from gastown_tui.town.mail import inbox
    from gastown_tui.town.polecats import spawn_polecat

    ledger = open_ledger(rig.beads_dir)
    bead = ledger.create("orphaned work")
    cat = spawn_polecat(town, rig.name)
    hook_bead(town, bead.id, cat.address)
    saw, did = orphan_dog(town)
    assert did == []  # its polecat is alive
    git(rig.mayor_clone, "worktree", "remove", "--force", cat.worktree)
    shutil.rmtree(rig.polecats_dir / cat.name)
    saw, did = orphan_dog(town)
    assert [(d.kind, d.bead) for d in did] == [("reopen_orphan", bead.id)]
    b = ledger.get(bead.id)
    assert b.status == "open" and not b.assignee
    assert any(m.subject == f"ORPHAN_RECOVERED {bead.id}" for m in inbox(town, "deacon/"))


def test_each_dog_run_is_an_event(tmp_path):
    town, rig = make_town(tmp_path)
    Dogs(town).run(RunContext(time.time(), "manual"))
    events = [json.loads(l) for l in town.events_path.read_text().splitlines()]
    dogs = [e for e in events if e["type"] == "dog_run"]
    assert sorted(e["payload"]["dog"] for e in dogs) == ["branch", "orphan", "wisp"]


# ------------------------------------------------------------------ settings
def test_patrol_settings_from_config_with_clear_errors(tmp_path):
    path = tmp_path / "config.json"
    assert load_patrol_settings(path).backoff_base == 30 and load_patrol_settings(path).backoff_max == 300
    path.write_text(json.dumps({"patrols": {"backoff_base": "2s", "stalled": "1m", "disabled": ["dogs"]}}))
    s = load_patrol_settings(path)
    assert (s.backoff_base, s.stalled, s.disabled) == (2.0, 60.0, ["dogs"])
    for bad, words in (({"stalld": "1m"}, "patrols.stalld: unknown setting"),
                       ({"hung": "soon"}, "patrols.hung: not a duration"),
                       ({"backoff_base": "10m"}, "backoff_max"),
                       ({"disabled": ["mayor"]}, "patrols.disabled")):
        path.write_text(json.dumps({"patrols": bad}))
        with pytest.raises(UserError, match=words) as exc:
            load_patrol_settings(path)
        assert str(path) in str(exc.value)
