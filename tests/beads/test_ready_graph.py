"""Ready and blocked work on hand-built graphs (every blocking type) and on a real ledger."""
from __future__ import annotations

import json

import pytest

from gastown_tui.beads import CycleError, Ledger
from gastown_tui.beads import graph
from gastown_tui.timestamps import format_ns, now_ns


@pytest.fixture
def ledger(tmp_path):
    return Ledger.init(tmp_path / ".beads", "bd")


def ready_ids(ledger, **kw):
    return [i.id for i in ledger.ready(**kw)]


def test_blocks_until_the_blocker_closes(ledger):
    a = ledger.create("blocker")
    b = ledger.create("blocked", deps=[("blocks", a.id)])
    assert ledger.is_blocked(b.id) and ledger.blockers(b.id) == [a.id]
    assert b.id not in ready_ids(ledger) and a.id in ready_ids(ledger)
    ledger.update(a.id, status="in_progress")
    assert ledger.is_blocked(b.id)                      # in progress still blocks
    ledger.close(a.id)
    assert not ledger.is_blocked(b.id) and b.id in ready_ids(ledger)
    ledger.reopen(a.id)
    assert ledger.is_blocked(b.id)


def test_pinned_and_missing_blockers_do_not_block_but_external_ones_do(ledger):
    pinned = ledger.create("context", status="pinned")
    x = ledger.create("x", deps=[("blocks", pinned.id)])
    assert not ledger.is_blocked(x.id)
    y = ledger.create("y", deps=[("blocks", "external:other:capability")])
    assert ledger.blockers(y.id) == ["external:other:capability"]


@pytest.mark.parametrize("reason,blocked_after", [("tests failed", False), ("Won't fix", False),
                                                  ("cancelled by mayor", False), ("done", True), (None, True)])
def test_conditional_blocks_runs_only_if_the_blocker_fails(ledger, reason, blocked_after):
    attempt = ledger.create("try the fast path")
    fallback = ledger.create("fallback", deps=[("conditional-blocks", attempt.id)])
    assert ledger.is_blocked(fallback.id)
    ledger.close(attempt.id, reason=reason)
    assert ledger.is_blocked(fallback.id) is blocked_after


def test_waits_for_all_children_and_any_children(ledger):
    spawner = ledger.create("spawner", issue_type="epic")
    kids = [ledger.create(f"kid {n}", parent=spawner.id) for n in range(3)]
    gate_all = ledger.create("fan-in (all)")
    ledger.add_dependency(gate_all.id, spawner.id, "waits-for")
    gate_any = ledger.create("fan-in (any)")
    ledger.add_dependency(gate_any.id, spawner.id, "waits-for", metadata=json.dumps({"gate": "any-children"}))
    assert ledger.is_blocked(gate_all.id) and ledger.is_blocked(gate_any.id)
    ledger.close(kids[0].id)
    assert ledger.is_blocked(gate_all.id) and not ledger.is_blocked(gate_any.id)
    ledger.close(kids[1].id)
    ledger.close(kids[2].id)
    assert not ledger.is_blocked(gate_all.id)


def test_blocking_propagates_down_to_children_not_up(ledger):
    blocker = ledger.create("blocker")
    epic = ledger.create("epic", issue_type="epic", deps=[("blocks", blocker.id)])
    child = ledger.create("child", parent=epic.id)
    grandchild = ledger.create("grandchild", parent=child.id)
    assert ledger.is_blocked(child.id) and ledger.is_blocked(grandchild.id)
    assert ledger.blockers(grandchild.id) == [child.id]
    free = ledger.create("unblocked epic", issue_type="epic")
    open_kid = ledger.create("open kid", parent=free.id)
    blocked_kid = ledger.create("blocked kid", parent=free.id, deps=[("blocks", blocker.id)])
    assert not ledger.is_blocked(free.id)                 # open or blocked children never block a parent
    assert open_kid.id in ready_ids(ledger) and blocked_kid.id not in ready_ids(ledger)
    ledger.close(blocker.id)
    assert {child.id, grandchild.id, epic.id} <= set(ready_ids(ledger))


def test_dotted_child_without_edge_still_inherits_blocking(ledger):
    blocker = ledger.create("blocker")
    parent = ledger.create("parent", deps=[("blocks", blocker.id)])
    orphan_style = ledger.create("step", id=f"{parent.id}.design")
    ledger.remove_dependency(orphan_style.id, parent.id)     # no parent-child edge left, only the dotted id
    assert ledger.is_blocked(orphan_style.id)


def test_ready_excludes_what_beads_excludes(ledger):
    ok = ledger.create("plain task")
    ledger.create("an agent bead", issue_type="agent")
    ledger.create("a gate", issue_type="gate")
    ledger.create("mr", issue_type="merge-request")
    ledger.create("a molecule root", infix="mol")
    ledger.create("a wisp", ephemeral=True)
    ledger.create("pinned", status="pinned")
    ledger.create("done", status="closed")
    future = format_ns(now_ns() + 3600 * 10**9)
    deferred = ledger.create("later", defer_until=future)
    ledger.create("child of deferred", parent=deferred.id)
    past = ledger.create("was deferred", defer_until="2020-01-01T00:00:00Z")
    assert set(ready_ids(ledger)) == {ok.id, past.id}
    assert ledger.create("template", is_template=True).id not in ready_ids(ledger)


def test_ready_filters(ledger):
    a = ledger.create("mine", assignee="gastown/polecats/nux", labels=["x", "y"])
    b = ledger.create("nobody's", labels=["x"])
    assert ready_ids(ledger, assignee="gastown/polecats/nux") == [a.id]
    assert ready_ids(ledger, unassigned=True) == [b.id]
    assert set(ready_ids(ledger, label="x")) == {a.id, b.id}
    assert ready_ids(ledger, label=["x", "y"]) == [a.id]
    assert len(ready_ids(ledger, limit=1)) == 1


def test_parent_filter_reaches_molecule_steps_and_wisps(ledger):
    root = ledger.create("wisp root", infix="wisp", ephemeral=True, issue_type="epic")
    s1 = ledger.create("step 1", id=f"{root.id}.one", ephemeral=True)
    s2 = ledger.create("step 2", id=f"{root.id}.two", ephemeral=True, deps=[("blocks", s1.id)])
    assert ready_ids(ledger) == []
    assert ready_ids(ledger, parent=root.id) == [s1.id]
    ledger.close(s1.id)
    assert ready_ids(ledger, parent=root.id) == [s2.id]


def test_ordering_hybrid_priority_oldest():
    now = now_ns()
    hour = 3600 * 10**9

    def rec(rid, prio, age_h):
        ts = format_ns(now - age_h * hour)
        return {"id": rid, "title": rid, "status": "open", "priority": prio, "issue_type": "task",
                "created_at": ts, "updated_at": ts}

    records = {r["id"]: r for r in [rec("bd-old-p0", 0, 100), rec("bd-older-p3", 3, 200),
                                     rec("bd-new-p2", 2, 1), rec("bd-new-p1", 1, 5), rec("bd-new-p1b", 1, 2)]}
    index = graph.BlockedIndex(records)

    def order(sort):
        return [r["id"] for r in graph.ready(records, index, sort=sort, now=now)]

    # hybrid: the last 48 h first, by priority (then oldest); then older ones, oldest first.
    assert order("hybrid") == ["bd-new-p1", "bd-new-p1b", "bd-new-p2", "bd-older-p3", "bd-old-p0"]
    # priority: priority, then newest first.
    assert order("priority") == ["bd-old-p0", "bd-new-p1b", "bd-new-p1", "bd-new-p2", "bd-older-p3"]
    assert order("oldest") == ["bd-older-p3", "bd-old-p0", "bd-new-p1", "bd-new-p1b", "bd-new-p2"]


def test_cycles_are_refused_showing_the_cycle(ledger):
    a = ledger.create("a")
    b = ledger.create("b", deps=[("blocks", a.id)])
    c = ledger.create("c", deps=[("blocks", b.id)])
    with pytest.raises(CycleError) as err:
        ledger.add_dependency(a.id, c.id)
    assert err.value.cycle == [a.id, c.id, b.id, a.id]
    assert f"{a.id} -> {c.id} -> {b.id} -> {a.id}" in str(err.value)
    assert ledger.get(a.id).dependencies == []                   # nothing was written
    ledger.add_dependency(a.id, c.id, "related")                 # non-blocking edges may loop


def test_claim_is_exclusive(ledger):
    a = ledger.create("work")
    assert ledger.claim(a.id, "alice").assignee == "alice"
    from gastown_tui.beads import ClaimConflict

    with pytest.raises(ClaimConflict, match="in_progress, assigned to alice"):
        ledger.claim(a.id, "bob")
    assert ledger.claim_next("bob") is None


def test_ready_on_a_real_ledger_matches_a_direct_reading(ledger_file):
    path = ledger_file("beads__00eb13a9.jsonl")
    ledger = Ledger.open(path)
    recs = {json.loads(x)["id"]: json.loads(x) for x in path.read_text().splitlines()}
    ready = ledger.raw_ready(limit=None)
    assert ready, "the real ledger has ready work"
    for r in ready:
        assert r.get("status", "open") in ("open", "in_progress")
        assert r.get("issue_type") not in graph.EXCLUDED_TYPES and "-mol-" not in r["id"]
        for d in r.get("dependencies") or ():
            if d["type"] == "blocks" and d["depends_on_id"] in recs:
                assert recs[d["depends_on_id"]].get("status") in ("closed", "tombstone", "pinned")
    blocked = ledger.blocked_index().blockers
    ready_ids_ = {r["id"] for r in ready}
    # A bead with an open `blocks` blocker is never ready, and is listed with that blocker.
    for rid, rec in recs.items():
        for d in rec.get("dependencies") or ():
            target = recs.get(d["depends_on_id"])
            if d["type"] == "blocks" and target and target.get("status") in ("open", "in_progress") \
                    and rec.get("status") in ("open", "in_progress"):
                assert rid not in ready_ids_ and d["depends_on_id"] in blocked[rid]
