"""The five real shared ledgers: load, count, byte-identical round trip, one-line updates."""
from __future__ import annotations

import json
import re
import shutil

import pytest

from gastown_tui.beads import Ledger
from gastown_tui.beads.codec import decode, encode
from gastown_tui.timestamps import to_ns

LEDGERS = [
    "beads__00eb13a9.jsonl",
    "beads__9c06d1c7.jsonl",
    "gastown__16df2a83.jsonl",
    "gastown__4ae4598c.jsonl",
    "frankenlibc__81ec3965.jsonl",
]


def plain_reading(path) -> dict[str, dict]:
    """An independent, naive reading: per id keep the tombstone if any, else the latest updated_at."""
    best: dict[str, dict] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        if "id" not in rec or rec.get("_type", "issue") != "issue":
            continue
        old = best.get(rec["id"])
        if old is None:
            best[rec["id"]] = rec
            continue
        old_t, new_t = old.get("status") == "tombstone", rec.get("status") == "tombstone"
        if new_t and not old_t:
            best[rec["id"]] = rec
        elif new_t == old_t and to_ns(rec["updated_at"]) >= to_ns(old["updated_at"]):
            best[rec["id"]] = rec
    return best


@pytest.fixture(params=LEDGERS)
def ledger_copy(request, tmp_path, ledger_file):
    src = ledger_file(request.param)
    beads = tmp_path / ".beads"
    beads.mkdir()
    dst = beads / "issues.jsonl"
    shutil.copyfile(src, dst)
    return src, dst


def test_every_shared_ledger_loads_with_the_plain_count(ledger_copy):
    src, dst = ledger_copy
    ledger = Ledger.open(dst)
    plain = plain_reading(src)
    live = {i for i, r in plain.items() if r.get("status") != "tombstone"}
    assert {i.id for i in ledger.all()} == live
    assert len(ledger.all(include_tombstones=True)) == len(plain)
    # And every resolved record is the version the plain reading chose.
    for rid in list(plain)[:: max(1, len(plain) // 200)]:
        assert ledger.raw(rid) == plain[rid]


def test_untouched_load_and_save_is_byte_identical(ledger_copy):
    src, dst = ledger_copy
    ledger = Ledger.open(dst)
    inode = dst.stat().st_ino
    ledger.save()
    assert dst.stat().st_ino != inode          # really rewritten (atomic replace), not skipped
    assert dst.read_bytes() == src.read_bytes()


# What each real file's writer does (SOURCES.md): separators, HTML escaping, timestamp shape.
WRITERS = {
    "beads__00eb13a9.jsonl": (",", True, r"\.\d{1,9}-08:00"),
    "beads__9c06d1c7.jsonl": (",", True, r"(\.\d{1,9})?-08:00"),
    "gastown__16df2a83.jsonl": (",", True, r"\.\d{1,9}-08:00"),
    "gastown__4ae4598c.jsonl": (", ", False, r"Z"),
    "frankenlibc__81ec3965.jsonl": (",", False, r"\.\d{1,9}Z"),
}


def test_updating_one_bead_changes_exactly_that_line_in_the_files_own_style(ledger_copy):
    """A repository shared with another Beads writer must not churn: the one changed line keeps
    its own key order and is written with that file's separators, escaping and timestamp shape."""
    src, dst = ledger_copy
    item_sep, html_escaped, ts_tail = WRITERS[src.name]
    ledger = Ledger.open(dst)
    dup_ids = {d.id for d in ledger.report.duplicates}
    target = next(i for i in ledger.list(include_closed=True) if i.id not in dup_ids and not i.id.endswith("x"))
    ledger.update(target.id, notes="touched by the round-trip test <&>")
    before = src.read_text(encoding="utf-8").split("\n")
    after = dst.read_text(encoding="utf-8").split("\n")
    assert len(before) == len(after)
    changed = [n for n, (a, b) in enumerate(zip(before, after)) if a != b]
    assert len(changed) == 1
    old_line, new_line = before[changed[0]], after[changed[0]]
    rec, old = decode(new_line), decode(old_line)
    assert rec["id"] == target.id and rec["notes"] == "touched by the round-trip test <&>"
    assert new_line.startswith('{"id"' + (": " if item_sep == ", " else ":"))
    assert ("\\u003c\\u0026\\u003e" in new_line) == html_escaped
    assert ("<&>" in new_line) == (not html_escaped)
    kept = [k for k in rec if k in old]
    assert kept == [k for k in old if k in rec]                 # the line's own key order
    assert re.search(r"T\d\d:\d\d:\d\d" + ts_tail + "$", rec["updated_at"]), rec["updated_at"]
    assert rec == {**old, "notes": rec["notes"], "updated_at": rec["updated_at"]}


def test_go_written_lines_are_reproduced_by_the_canonical_encoder(ledger_file):
    path = ledger_file("beads__00eb13a9.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert sum(encode(decode(line)) == line for line in lines) == len(lines) == 5722


def test_duplicates_in_the_dirty_ledger_are_resolved_and_reported(ledger_file):
    path = ledger_file("beads__9c06d1c7.jsonl")
    ledger = Ledger.open(path)
    dups = ledger.report.duplicates
    assert len(dups) == 149
    plain = plain_reading(path)
    for dup in dups:
        assert len(dup.lines) >= 2
        assert ledger.raw(dup.id) == plain[dup.id]
    assert "149 ids on several lines" in ledger.report.summary()


def test_quirks_of_each_generation_are_read(tmp_path, ledger_file):
    # Missing priority reads as 0 (beads__9c06d1c7 has 89 such lines).
    ledger = Ledger.open(ledger_file("beads__9c06d1c7.jsonl"))
    raw = [json.loads(x) for x in ledger_file("beads__9c06d1c7.jsonl").read_text().splitlines()]
    no_prio = next(r["id"] for r in raw if "priority" not in r and r.get("status") != "tombstone")
    assert ledger.get(no_prio).priority == 0
    # Integer comment ids (beads_rust), Dolt-era computed counts kept as unknown fields.
    fl = Ledger.open(ledger_file("frankenlibc__81ec3965.jsonl"))
    with_comments = next(i for i in fl.all() if i.comments)
    assert isinstance(with_comments.comments[0].id, int)
    dolt = Ledger.open(ledger_file("gastown__4ae4598c.jsonl"))
    issue = dolt.all()[0]
    assert "dependency_count" in issue.model_extra
    # Leaked wisps in an export are recognised as ephemeral.
    assert any(i.ephemeral for i in dolt.all())


def test_header_and_memory_lines_are_kept(tmp_path):
    beads = tmp_path / ".beads"
    beads.mkdir()
    path = beads / "issues.jsonl"
    header = '{"_schema":"beads-jsonl/1","_dolt_branch":"main","_sort":"stable-v1"}'
    memory = '{"_type":"memory","key":"k","value":"v"}'
    issue = ('{"_type":"issue","id":"bd-abc","title":"T","status":"open","priority":1,'
             '"issue_type":"task","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}')
    path.write_text("\n".join([header, issue, memory]) + "\n")
    ledger = Ledger.open(path)
    assert [i.id for i in ledger.all()] == ["bd-abc"]
    assert ledger.report.header_lines == [1] and ledger.report.other_lines == [3]
    ledger.create("new one", id="bd-zzz")
    lines = path.read_text().splitlines()
    assert lines[0] == header and lines[1] == issue and lines[2] == memory
    assert json.loads(lines[3])["id"] == "bd-zzz"


def test_changing_a_duplicated_id_leaves_one_line_for_it(tmp_path, ledger_file):
    src = ledger_file("beads__9c06d1c7.jsonl")
    beads = tmp_path / ".beads"
    beads.mkdir()
    dst = beads / "issues.jsonl"
    shutil.copyfile(src, dst)
    ledger = Ledger.open(dst)
    dup = next(d for d in ledger.report.duplicates if ledger.raw(d.id).get("status") != "tombstone")
    ledger.update(dup.id, notes="resolved")
    before = src.read_text(encoding="utf-8").split("\n")
    after = dst.read_text(encoding="utf-8").split("\n")
    mine = [line for line in after if line.startswith(f'{{"id":"{dup.id}"')]
    assert len(mine) == 1 and json.loads(mine[0])["notes"] == "resolved"
    others_before = [x for n, x in enumerate(before, 1) if n not in dup.lines]
    assert [x for x in after if x not in mine] == others_before    # every other line untouched, in order


def test_legacy_beads_jsonl_name_is_found(tmp_path):
    beads = tmp_path / ".beads"
    beads.mkdir()
    (beads / "beads.jsonl").write_text('{"id":"bd-1","title":"old","status":"open","priority":1,'
                                       '"issue_type":"task","created_at":"2025-10-20T00:00:00Z",'
                                       '"updated_at":"2025-10-20T00:00:00Z"}\n')
    from gastown_tui.beads import find_beads_dir

    assert [i.id for i in Ledger.open(find_beads_dir(tmp_path)).all()] == ["bd-1"]


@pytest.mark.parametrize("name", LEDGERS)
def test_one_call_decoding_of_big_files_gives_the_same_records(monkeypatch, ledger_file, name):
    from gastown_tui.beads import jsonl

    path = ledger_file(name)
    per_line = jsonl.JsonlFile(path)
    per_line.load()
    monkeypatch.setattr(jsonl, "JOINED_MIN_LINES", 0)
    joined = jsonl.JsonlFile(path)
    joined.load()
    assert joined.records == per_line.records
    assert joined.render() == per_line.render() == path.read_text(encoding="utf-8")


def test_one_call_decoding_falls_back_when_lines_do_not_line_up(monkeypatch, tmp_path):
    from gastown_tui.beads import jsonl

    monkeypatch.setattr(jsonl, "JOINED_MIN_LINES", 0)
    path = tmp_path / "issues.jsonl"
    # Three broken lines that happen to form a valid three-element array when joined with commas.
    path.write_text('{"id":"bd-a","t":"}\n{"}\n{"id":"bd-b"},{"id":"bd-c"}\n')
    store = jsonl.JsonlFile(path)
    store.load(strict=False)
    assert [n for n, _, _ in store.report.bad_lines] == [1, 2, 3]
    assert store.records == {}
