"""Moving a project between bd 1.x and gastown: `bd export` / `bd import`, and bd backup sets."""
from __future__ import annotations

import json
import shutil

import pytest

from gastown_tui.beads import Ledger
from gastown_tui.beads.codec import canonical
from gastown_tui.beads.errors import LedgerError
from gastown_tui.beads.interop import COMPUTED, import_file, read_memories

from .bdrun import bd

REAL = ["beads__00eb13a9.jsonl", "frankenlibc__81ec3965.jsonl", "gastown__4ae4598c.jsonl"]


def _live(ledger) -> dict[str, dict]:
    return {rid: rec for rid, rec in ledger._main.records.items()
            if rec.get("status") != "tombstone" and not rec.get("ephemeral")}


@pytest.mark.parametrize("name", REAL)
def test_export_then_import_into_a_fresh_ledger_reproduces_every_live_bead(ledger_file, tmp_path, name):
    src = tmp_path / "src" / ".beads"
    src.mkdir(parents=True)
    shutil.copy(ledger_file(name), src / "issues.jsonl")
    original = Ledger.open(src)
    export = tmp_path / "export.jsonl"
    proc = bd("export", export, cwd=src.parent)
    assert "exported" in proc.stderr
    lines = export.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert first["_type"] == "issue" and {"dependency_count", "dependent_count", "comment_count"} <= first.keys()

    dst = tmp_path / "dst"
    dst.mkdir()
    bd("init", "--prefix", original.prefix, cwd=dst)
    out = bd("import", export, cwd=dst).stdout
    live = _live(original)
    assert f"{len(live)} created" in out
    fresh = Ledger.open(dst / ".beads")
    assert set(_live(fresh)) == set(live)
    deps = labels = comments = 0
    for rid, rec in live.items():
        got = fresh.raw(rid)
        data = {k: v for k, v in rec.items() if k not in COMPUTED}      # counts are derived, not data
        assert canonical(got) == canonical(data), rid    # every field (empty ones are omitted, as bd does)
        deps += len(got.get("dependencies") or ())
        labels += len(got.get("labels") or ())
        comments += len(got.get("comments") or ())
    assert deps and (labels or comments)                             # the real files have them


def test_import_is_all_or_nothing_and_names_the_bad_line(tmp_path):
    dst = tmp_path / "town"
    dst.mkdir()
    bd("init", "--prefix", "ab", cwd=dst)
    bd("create", "kept", cwd=dst)
    before = (dst / ".beads" / "issues.jsonl").read_bytes()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"_type":"issue","id":"ab-1","title":"one","status":"open","priority":1,'
                   '"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}\n'
                   '{"_type":"issue","id":"ab-2","title":"two",\n', encoding="utf-8")
    proc = bd("import", bad, cwd=dst, check=False)
    assert proc.returncode == 1
    assert f"{bad}:2: not JSON" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert (dst / ".beads" / "issues.jsonl").read_bytes() == before


def test_import_names_a_line_with_a_number_too_long_to_convert(tmp_path):
    # a plain ValueError from json (no .msg/.colno) used to end the import in a traceback
    dst = tmp_path / "town"
    dst.mkdir()
    bd("init", "--prefix", "ab", cwd=dst)
    bad = tmp_path / "huge.jsonl"
    bad.write_text('{"_type":"issue","id":"ab-1","title":"one","n":' + "9" * 5000 + '}\n', encoding="utf-8")
    proc = bd("import", bad, cwd=dst, check=False)
    assert proc.returncode == 1
    assert f"{bad}:1: not JSON" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_import_keeps_a_newer_local_copy_and_reads_bd_1x_shapes(tmp_path):
    beads = tmp_path / ".beads"
    ledger = Ledger.init(beads, "ab")
    newer = ledger.create("local and newer", id="ab-1")
    older = {"_type": "issue", "id": "ab-1", "title": "stale export", "status": "open", "priority": 2,
             "issue_type": "task", "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z"}
    fresh = {"_type": "issue", "id": "ab-2", "title": "from bd 1.x", "status": "open", "priority": 1,
             "issue_type": "feature", "created_at": "2026-04-02T10:00:00Z", "updated_at": "2026-04-02T10:00:00Z",
             "pinned": 1, "metadata": {"k": "v"}, "spec_id": "SPEC-1", "dependency_count": 0,
             "dependent_count": 0, "comment_count": 0}
    memory = {"_type": "memory", "key": "style", "value": "tabs, never spaces"}
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (older, fresh, memory)) + "\n", encoding="utf-8")
    report = import_file(ledger, path)
    assert report.stale == ["ab-1"] and report.created == ["ab-2"] and report.memories == 1
    ledger = Ledger.open(beads)
    assert ledger.raw("ab-1")["title"] == newer.title == "local and newer"
    got = ledger.raw("ab-2")
    assert got["pinned"] is True and got["metadata"] == {"k": "v"} and got["spec_id"] == "SPEC-1"
    assert "dependency_count" not in got and "_type" not in got
    assert read_memories(beads) == {"style": "tabs, never spaces"}


def _dump_row(rid, title, **cols):
    row = {"acceptance_criteria": "", "assignee": None, "closed_at": None, "compaction_level": 0,
           "content_hash": "ab" * 32, "created_at": "2026-03-22T21:04:56Z", "created_by": "Jo",
           "description": "", "ephemeral": 0, "id": rid, "is_template": 0, "issue_type": "task",
           "metadata": "{}", "pinned": 0, "priority": 2, "status": "open", "timeout_ns": 0, "title": title,
           "updated_at": "2026-03-22T21:04:56Z", "waiters": ""}
    row.update(cols)
    return dict(sorted(row.items()))


def _backup(folder, with_deps=True):
    folder.mkdir(parents=True)
    rows = [_dump_row("br-1", "first"), _dump_row("br-2", "second", pinned=1)]
    (folder / "issues.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if with_deps:
        (folder / "dependencies.jsonl").write_text(json.dumps(
            {"created_at": "2026-03-22T14:05:02Z", "created_by": "Jo", "depends_on_id": "br-1",
             "issue_id": "br-2", "type": "blocks"}) + "\n")
    (folder / "labels.jsonl").write_text(json.dumps({"issue_id": "br-1", "label": "cli"}) + "\n")
    return folder / "issues.jsonl"


def test_a_bd_backup_set_is_read_whole_with_its_side_tables(tmp_path):
    dump = _backup(tmp_path / "proj" / ".beads" / "backup")
    ledger = Ledger.init(tmp_path / "new" / ".beads", "br")
    report = import_file(ledger, dump)
    assert "bd backup" in report.source and report.created == ["br-1", "br-2"]
    ledger = Ledger.open(tmp_path / "new" / ".beads")
    assert ledger.blockers("br-2") == ["br-1"]
    assert ledger.raw("br-1")["labels"] == ["cli"]
    two = ledger.raw("br-2")
    assert two["pinned"] is True and "content_hash" not in two and "closed_at" not in two


def test_a_bd_backup_set_without_its_dependencies_is_refused_whole(tmp_path):
    dump = _backup(tmp_path / "backup", with_deps=False)
    ledger = Ledger.init(tmp_path / "new" / ".beads", "br")
    with pytest.raises(LedgerError, match="dependencies.jsonl is missing"):
        import_file(ledger, dump)
    assert Ledger.open(tmp_path / "new" / ".beads")._main.records == {}


def test_a_backup_dump_is_never_opened_as_a_ledger(tmp_path):
    dump = _backup(tmp_path / "backup")
    proc = bd("list", "--db", dump, cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert "bd backup table dump" in proc.stderr and "gastown bd import" in proc.stderr
