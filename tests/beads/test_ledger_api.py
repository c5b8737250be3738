"""The Ledger API other layers code against (docs/contracts.md, beads section)."""
from __future__ import annotations

import json
import subprocess

import pytest

from gastown_tui.beads import Issue, Ledger, LedgerError, ValidationError, find_beads_dir
from gastown_tui.beads.fields import parse_fields, set_fields
from gastown_tui.timestamps import format_ns, now, to_ns
from gastown_tui.errors import NotFound


@pytest.fixture
def ledger(tmp_path):
    return Ledger.init(tmp_path / ".beads", "gt")


def lines(path):
    return path.read_text(encoding="utf-8").splitlines()


def test_init_creates_ledger_config_and_wisp_gitignore(tmp_path):
    ledger = Ledger.init(tmp_path / ".beads", "hq")
    assert ledger.path.read_text() == "" and ledger.prefix == "hq"
    assert "issue-prefix: hq" in (tmp_path / ".beads" / "config.yaml").read_text()
    assert "wisps.jsonl" in (tmp_path / ".beads" / ".gitignore").read_text().split()
    assert Ledger.init(tmp_path / ".beads", "hq").prefix == "hq"        # idempotent
    with pytest.raises(LedgerError, match="already sets issue-prefix 'hq'"):
        Ledger.init(tmp_path / ".beads", "gt")
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert find_beads_dir(tmp_path / "a" / "b") == (tmp_path / ".beads").resolve()
    with pytest.raises(NotFound, match="bd init"):
        find_beads_dir(tmp_path.parent.parent / "nonexistent-for-sure")


def test_wisps_never_enter_issues_jsonl_and_git_ignores_them(ledger, tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    persistent = ledger.create("real work")
    wisp = ledger.create("patrol step", ephemeral=True, infix="wisp")
    assert wisp.id not in ledger.path.read_text()
    assert wisp.id in ledger.wisps_path.read_text()
    assert ledger.get(wisp.id).ephemeral and ledger.find(persistent.id) is not None
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=tmp_path,
                            capture_output=True, text=True, check=True).stdout
    assert ".beads/issues.jsonl" in status and "wisps.jsonl" not in status
    ledger.close(wisp.id)
    assert wisp.id not in ledger.path.read_text()
    ledger.delete(wisp.id)
    assert ledger.find(wisp.id) is None and wisp.id not in ledger.wisps_path.read_text()


def test_create_update_close_reopen_round_trip(ledger):
    a = ledger.create("Title", description="line\nrole_type: polecat", priority=1, issue_type="bug",
                      labels=["b", "a"], assignee="gastown/polecats/nux", hook_bead="gt-xyz")
    got = ledger.get(a.id)
    assert isinstance(got, Issue)
    assert (got.priority, got.issue_type, got.labels, got.hook_bead) == (1, "bug", ["a", "b"], "gt-xyz")
    first_updated = got.updated_at
    u = ledger.update(a.id, status="in_progress", notes="working", priority=0)
    assert (u.status, u.notes, u.priority) == ("in_progress", "working", 0)
    assert to_ns(u.updated_at) > to_ns(first_updated)
    c = ledger.close(a.id, reason="done")
    assert c.status == "closed" and c.closed_at and c.close_reason == "done"
    r = ledger.reopen(a.id)
    assert r.status == "open" and r.closed_at is None and r.close_reason is None
    ledger.update(a.id, status="closed")
    assert ledger.get(a.id).closed_at
    ledger.update(a.id, assignee=None)
    assert "assignee" not in ledger.raw(a.id)
    # A fresh process view sees the same thing.
    assert Ledger.open(ledger.beads_dir).get(a.id).status == "closed"


@pytest.mark.parametrize("kwargs,message", [
    ({"title": "x" * 501}, "501 characters; the limit is 500"),
    ({"title": "  "}, "title is required"),
    ({"title": "t", "priority": 7}, "out of range"),
    ({"title": "t", "priority": "high"}, "not a number"),
    ({"title": "t", "status": "doing"}, "status 'doing' is not one of"),
    ({"title": "t", "issue_type": "whatever"}, "issue type 'whatever'"),
])
def test_bad_values_are_refused_with_the_reason(ledger, kwargs, message):
    title = kwargs.pop("title")
    with pytest.raises(ValidationError, match=message):
        ledger.create(title, **kwargs)
    assert ledger.path.read_text() == ""


def test_update_refuses_bad_values_and_unknown_ids(ledger):
    a = ledger.create("ok")
    with pytest.raises(ValidationError, match="out of range"):
        ledger.update(a.id, priority=5)
    with pytest.raises(ValidationError, match="cannot change id"):
        ledger.update(a.id, id="gt-other")
    with pytest.raises(NotFound, match=rf"unknown bead 'gt-zz' \(nearest: {a.id}"):
        ledger.update("gt-zz", title="x")


def test_custom_statuses_and_types_from_config(tmp_path):
    beads = tmp_path / ".beads"
    Ledger.init(beads, "bd")
    (beads / "config.yaml").write_text("issue-prefix: bd\nstatus.custom: review:wip,qa\ntypes.custom: widget\n")
    ledger = Ledger.open(beads)
    a = ledger.create("w", issue_type="widget", status="review")
    assert (a.issue_type, a.status) == ("widget", "review")
    assert ledger.create("alias", issue_type="enhancement").issue_type == "feature"


def test_dependencies_labels_comments(ledger):
    a, b = ledger.create("a"), ledger.create("b")
    ledger.add_dependency(b.id, a.id)
    ledger.add_dependency(b.id, a.id)                       # idempotent
    dep = ledger.get(b.id).dependencies
    assert [(d.depends_on_id, d.type) for d in dep] == [(a.id, "blocks")]
    ledger.add_dependency(b.id, a.id, "related")
    ledger.remove_dependency(b.id, a.id, "blocks")
    assert [d.type for d in ledger.get(b.id).dependencies] == ["related"]
    with pytest.raises(NotFound, match="no blocks dependency"):
        ledger.remove_dependency(b.id, a.id, "blocks")
    with pytest.raises(NotFound):
        ledger.add_dependency(b.id, "gt-missing")
    ledger.add_label(a.id, "z")
    ledger.add_label(a.id, "gt:agent")
    assert ledger.get(a.id).labels == ["gt:agent", "z"]
    ledger.remove_label(a.id, "z")
    assert ledger.get(a.id).labels == ["gt:agent"]
    c1 = ledger.add_comment(a.id, "first", "mayor/")
    c2 = ledger.add_comment(b.id, "second", "deacon/")
    assert (c1.id, c2.id) == (1, 2)
    assert ledger.get(a.id).comments[0].text == "first"


def test_transaction_writes_once_and_rolls_back_on_error(ledger):
    a = ledger.create("a")
    inode = ledger.path.stat().st_ino
    with ledger.transaction():
        ledger.update(a.id, title="a2")
        ledger.create("b")
        assert ledger.path.stat().st_ino == inode           # nothing written yet
    assert ledger.path.stat().st_ino != inode
    before = ledger.path.read_bytes()
    with pytest.raises(RuntimeError):
        with ledger.transaction():
            ledger.update(a.id, title="never")
            raise RuntimeError("boom")
    assert ledger.path.read_bytes() == before and ledger.get(a.id).title == "a2"


def test_notices_changes_made_by_another_process(ledger):
    a = ledger.create("a")
    other = Ledger.open(ledger.beads_dir)
    other.update(a.id, title="changed elsewhere")
    b = other.create("made elsewhere")
    assert ledger.get(a.id).title == "changed elsewhere"
    ledger.update(a.id, notes="and here")                    # does not lose the other writer's bead
    assert Ledger.open(ledger.beads_dir).find(b.id) is not None


def test_new_beads_go_in_id_order(ledger):
    for n in range(12):
        ledger.create(f"bead {n}")
    ids_in_file = [json.loads(x)["id"] for x in lines(ledger.path)]
    assert ids_in_file == sorted(ids_in_file)


def test_bulk_create_streams_wisps_and_merges_persistent(ledger):
    root = ledger.create("root", id="gt-wisp-root", ephemeral=True)
    n = ledger.bulk_create(({"id": f"{root.id}.s{i}", "title": f"step {i}"} for i in range(500)), ephemeral=True)
    assert n == 500
    assert len(lines(ledger.wisps_path)) == 501 and ledger.path.read_text() == ""
    assert ledger.get(f"{root.id}.s499").ephemeral
    assert len(ledger.ready(parent=root.id, limit=None)) == 500
    with pytest.raises(LedgerError, match="already exists"):
        ledger.bulk_create([{"id": "gt-new", "title": "x"}, {"id": f"{root.id}.s3", "title": "dup"}],
                           ephemeral=True)
    assert len(lines(ledger.wisps_path)) == 501                 # the failed batch left nothing behind
    ledger.bulk_create([{"id": "gt-b", "title": "b"}, {"id": "gt-a", "title": "a", "priority": 0}])
    assert [json.loads(x)["id"] for x in lines(ledger.path)] == ["gt-a", "gt-b"]
    assert ledger.get("gt-a").priority == 0


def test_fields_helpers():
    text = "gt-gastown-polecat-nux\n\nrole_type: polecat\nhook_bead: null\nagent_state: spawning"
    assert parse_fields(text) == {"role_type": "polecat", "hook_bead": None, "agent_state": "spawning"}
    new = set_fields(text, hook_bead="gt-pp2t", attached_molecule="gt-wisp-abc")
    assert new.splitlines()[:4] == ["gt-gastown-polecat-nux", "", "role_type: polecat", "hook_bead: gt-pp2t"]
    assert parse_fields(new)["attached_molecule"] == "gt-wisp-abc"
    assert set_fields("Fix login", branch="polecat/nux") == "Fix login\n\nbranch: polecat/nux"
    assert set_fields("", a=None) == "a: null"


def test_timestamps():
    ts = now()
    assert ts.endswith("Z") and to_ns(ts) > 0
    assert format_ns(to_ns("2025-12-26T01:21:22.065353-08:00")) == "2025-12-26T09:21:22.065353Z"
    assert to_ns("2026-02-27T07:01:10Z") == to_ns("2026-02-27T08:01:10+01:00")
    assert format_ns(1_700_000_000_000_000_000) == "2023-11-14T22:13:20Z"
    with pytest.raises(ValueError):
        to_ns("yesterday")


def test_children_of_a_wisp_are_wisps(ledger):
    root = ledger.create("patrol", infix="wisp", ephemeral=True)
    kid = ledger.create("step", parent=root.id)
    named = ledger.create("named", id=f"{root.id}.check")
    assert kid.ephemeral and named.ephemeral
    assert ledger.path.read_text() == ""


def test_a_record_the_model_cannot_read_is_a_clear_error(tmp_path):
    beads = tmp_path / ".beads"
    Ledger.init(beads, "bd")
    (beads / "issues.jsonl").write_text(json.dumps({"id": "bd-x", "title": "t", "priority": "urgent",
                                                    "created_at": "2026-01-01T00:00:00Z",
                                                    "updated_at": "2026-01-01T00:00:00Z"}) + "\n")
    ledger = Ledger.open(beads)
    assert ledger.raw("bd-x")["priority"] == "urgent"          # kept as it is
    with pytest.raises(LedgerError, match="bead 'bd-x': field 'priority'"):
        ledger.get("bd-x")
