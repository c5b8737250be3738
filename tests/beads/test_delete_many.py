"""Bulk hard delete (`ledger.delete_many`) and the per-parent child counters it keeps."""
from __future__ import annotations

import json
import subprocess

import pytest

from gastown_tui.beads import Ledger, LedgerError
from gastown_tui.beads.counters import COUNTERS_NAME
from gastown_tui.beads.ledger import RawLedger
from gastown_tui.errors import NotFound


@pytest.fixture
def ledger(tmp_path):
    return Ledger.init(tmp_path / ".beads", "gt")


def test_delete_many_removes_beads_from_both_stores_and_edges_to_them(ledger):
    keep = ledger.create("keeps going")
    a = ledger.create("a")
    b = ledger.create("b", deps=[("blocks", a.id)])
    w = ledger.create("wisp", ephemeral=True, infix="wisp")
    w2 = ledger.create("wisp step", ephemeral=True, infix="wisp", deps=[("blocks", w.id)])
    ledger.add_dependency(keep.id, b.id)               # keep waits for b (persistent -> persistent)
    ledger.add_dependency(keep.id, a.id, "related")
    assert ledger.is_blocked(keep.id)

    assert ledger.delete_many([a.id, b.id, w.id, a.id]) == 3       # repeated ids count once
    fresh = Ledger.open(ledger.beads_dir)
    for gone in (a.id, b.id, w.id):
        assert fresh.find(gone) is None
        assert gone not in ledger.path.read_text() + ledger.wisps_path.read_text()
    assert fresh.get(keep.id).dependencies == []                   # both edges to deleted beads went
    assert not fresh.is_blocked(keep.id) and not ledger.is_blocked(keep.id)   # index kept current
    assert [d.depends_on_id for d in fresh.get(w2.id).dependencies] == []
    assert keep.id in [i.id for i in ledger.ready()]


def test_delete_many_with_an_unknown_id_deletes_nothing(ledger):
    a = ledger.create("a")
    before = ledger.path.read_bytes()
    with pytest.raises(NotFound, match="gt-nope"):
        ledger.delete_many([a.id, "gt-nope"])
    assert ledger.path.read_bytes() == before and ledger.find(a.id) is not None
    assert ledger.delete_many([]) == 0


def test_delete_many_of_a_big_batch_keeps_ready_answers_right(tmp_path):
    ledger = RawLedger.init(tmp_path / ".beads", "gt")
    epic = ledger.create("epic", issue_type="epic")["id"]
    ledger.bulk_create({"id": f"{epic}.s{i:04d}", "title": f"step {i}",
                        "dependencies": [{"issue_id": f"{epic}.s{i:04d}", "depends_on_id": epic,
                                          "type": "parent-child", "created_at": "2026-01-01T00:00:00Z"}]
                        + ([{"issue_id": f"{epic}.s{i:04d}", "depends_on_id": f"{epic}.s{i - 1:04d}",
                             "type": "blocks", "created_at": "2026-01-01T00:00:00Z"}] if i else [])}
                       for i in range(3000))
    assert [r["id"] for r in ledger.raw_ready(parent=epic)] == [f"{epic}.s0000"]
    ledger.delete_many([f"{epic}.s{i:04d}" for i in range(2000)])   # big enough to rebuild the index
    assert [r["id"] for r in ledger.raw_ready(parent=epic)] == [f"{epic}.s2000"]
    assert len(ledger.children(epic)) == 1000
    assert sum(1 for _ in ledger.path.open()) == 1001


def test_a_deleted_childs_number_is_never_given_out_again(ledger, tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    ignore = ledger.beads_dir / ".gitignore"       # as a ledger made before the counters existed has it
    ignore.write_text("wisps.jsonl\n.gastown.lock\n", encoding="utf-8")
    epic = ledger.create("epic", issue_type="epic")
    kids = [ledger.create(f"child {n}", parent=epic.id) for n in range(1, 4)]
    assert [k.id for k in kids] == [f"{epic.id}.{n}" for n in (1, 2, 3)]
    ledger.delete(kids[2].id)                                # the highest one: the plain scan would reuse .3
    assert ledger.create("four", parent=epic.id).id == f"{epic.id}.4"
    ledger.delete_many([f"{epic.id}.4", kids[1].id])
    # Another process (a fresh ledger object) sees the counter too.
    other = Ledger.open(ledger.beads_dir)
    assert other.create("five", parent=epic.id).id == f"{epic.id}.5"
    assert json.loads((ledger.beads_dir / COUNTERS_NAME).read_text()) == {epic.id: 4}
    # The counters are side data: git ignores them, like the wisps.
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=tmp_path,
                            capture_output=True, text=True, check=True).stdout
    assert ".beads/issues.jsonl" in status and COUNTERS_NAME not in status
    # Deleting the parent drops its counter (the file does not grow with dead parents).
    ledger.delete_many([epic.id])
    assert json.loads((ledger.beads_dir / COUNTERS_NAME).read_text()) == {}


def test_wisp_children_are_counted_too_and_named_children_are_not(ledger):
    root = ledger.create("wisp root", ephemeral=True, infix="wisp")
    c1 = ledger.create("one", parent=root.id)
    named = ledger.create("named", id=f"{root.id}.design")
    ledger.delete_many([c1.id, named.id])
    assert ledger.create("again", parent=root.id).id == f"{root.id}.2"


def test_a_corrupt_counters_file_is_a_clear_error_naming_it(ledger):
    epic = ledger.create("epic")
    (ledger.beads_dir / COUNTERS_NAME).write_text("{not json", encoding="utf-8")
    with pytest.raises(LedgerError, match=COUNTERS_NAME):
        ledger.create("child", parent=epic.id)
    assert ledger.children(epic.id) == []                  # nothing half-made
