"""The incrementally maintained blocked index always equals one built from scratch."""
from __future__ import annotations

import json
import random

import pytest

from gastown_tui.beads import CycleError, Ledger
from gastown_tui.beads.blocked import BlockedIndex
from gastown_tui.errors import UserError


def same(index: BlockedIndex, records: dict) -> None:
    fresh = BlockedIndex(dict(records))
    assert {k: sorted(v) for k, v in index.blockers.items()} == {k: sorted(v) for k, v in fresh.blockers.items()}
    assert index.children == fresh.children
    assert set(index.workable) == set(fresh.workable)
    assert set(index.deferred) == set(fresh.deferred)
    assert index.parent == fresh.parent


@pytest.mark.parametrize("seed", range(6))
def test_random_changes_keep_the_index_exact(tmp_path, seed):
    rng = random.Random(seed)
    ledger = Ledger.init(tmp_path / ".beads", "bd")
    ids: list[str] = []
    index = ledger.blocked_index()
    for step in range(160):
        op = rng.random()
        try:
            if op < 0.25 or len(ids) < 4:
                kw = {}
                if ids and rng.random() < 0.4:
                    kw["parent"] = rng.choice(ids)
                if ids and rng.random() < 0.3:
                    kw["deps"] = [(rng.choice(["blocks", "conditional-blocks", "related"]), rng.choice(ids))]
                ids.append(ledger.create(f"b{step}", **kw).id)
            elif op < 0.45:
                a, b = rng.sample(ids, 2)
                kind = rng.choice(["blocks", "conditional-blocks", "waits-for", "parent-child", "tracks"])
                meta = json.dumps({"gate": "any-children"}) if kind == "waits-for" and rng.random() < 0.5 else None
                ledger.add_dependency(a, b, kind, metadata=meta)
            elif op < 0.6:
                ledger.close(rng.choice(ids), reason=rng.choice(["done", "failed", None]))
            elif op < 0.7:
                ledger.reopen(rng.choice(ids))
            elif op < 0.78:
                ledger.update(rng.choice(ids), status=rng.choice(["in_progress", "pinned", "blocked", "open"]))
            elif op < 0.84:
                rid = rng.choice(ids)
                ledger.update(rid, defer_until=rng.choice(["2999-01-01T00:00:00Z", None]))
            elif op < 0.9:
                rid = rng.choice(ids)
                deps = ledger.raw(rid).get("dependencies") or []
                if deps:
                    ledger.remove_dependency(rid, rng.choice(deps)["depends_on_id"])
            elif op < 0.95:
                rid = rng.choice(ids)
                ledger.delete(rid)
                ids.remove(rid)
            else:
                head = rng.choice(ids)
                if head.count(".") < 3:
                    ids.append(ledger.create(f"named {step}", id=f"{head}.n{step}").id)
        except (CycleError, UserError):
            pass
        assert ledger.blocked_index() is index            # the same object, updated in place
        same(index, ledger._main.records)


def test_removing_and_recreating_a_head_relinks_dotted_children(tmp_path):
    ledger = Ledger.init(tmp_path / ".beads", "bd")
    blocker = ledger.create("blocker")
    head = ledger.create("head", id="bd-head", deps=[("blocks", blocker.id)])
    kid = ledger.create("kid", id="bd-head.k")
    ledger.remove_dependency(kid.id, head.id)         # only the dotted id ties them now
    index = ledger.blocked_index()
    assert index.blockers[kid.id] == [head.id]
    ledger.delete(head.id)
    assert kid.id not in index.blockers and kid.id not in index.parent
    ledger.create("head again", id="bd-head", deps=[("blocks", blocker.id)])
    assert index.blockers[kid.id] == ["bd-head"]
    same(index, ledger._main.records)


def test_index_over_both_stores_stays_exact(tmp_path):
    rng = random.Random(11)
    ledger = Ledger.init(tmp_path / ".beads", "bd")
    ids = [ledger.create("seed").id, ledger.create("wisp seed", ephemeral=True).id]
    index = ledger.blocked_index(wisps=True)
    for step in range(120):
        try:
            op = rng.random()
            if op < 0.3:
                kw = {"ephemeral": rng.random() < 0.5}
                if rng.random() < 0.4:
                    kw["parent"] = rng.choice(ids)
                if rng.random() < 0.4:
                    kw["deps"] = [("blocks", rng.choice(ids))]
                ids.append(ledger.create(f"b{step}", **kw).id)
            elif op < 0.5:
                a, b = rng.sample(ids, 2)
                ledger.add_dependency(a, b, rng.choice(["blocks", "waits-for", "parent-child"]))
            elif op < 0.7:
                ledger.close(rng.choice(ids))
            elif op < 0.85:
                ledger.reopen(rng.choice(ids))
            else:
                rid = rng.choice(ids)
                ledger.delete(rid)
                ids.remove(rid)
        except (CycleError, UserError):
            pass
        assert ledger.blocked_index(wisps=True) is index
        same(index, ledger._all_records(True))
    assert any(ledger.raw(i).get("ephemeral") for i in ids)
