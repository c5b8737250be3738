"""Malformed lines: named precisely, nothing written back, quarantine moves them aside verbatim."""
from __future__ import annotations

import json

import pytest

from gastown_tui.beads import Ledger, MalformedLedger
from .bdrun import bd, bd_json

GOOD = ('{"id":"bd-a1","title":"fine","status":"open","priority":2,"issue_type":"task",'
        '"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}')
GOOD2 = GOOD.replace("bd-a1", "bd-b2").replace("fine", "also fine")
BROKEN = '{"id":"bd-zz","title":"cut off in the midd'
NO_ID = '{"title":"who am I"}'


@pytest.fixture
def bad_ledger(tmp_path):
    beads = tmp_path / ".beads"
    Ledger.init(beads, "bd")
    path = beads / "issues.jsonl"
    path.write_text("\n".join([GOOD, BROKEN, GOOD2, NO_ID]) + "\n")
    return tmp_path, path


def test_error_names_file_line_and_start_of_line(bad_ledger):
    _, path = bad_ledger
    with pytest.raises(MalformedLedger) as err:
        Ledger.open(path)
    msg = str(err.value)
    assert f"{path}:2:" in msg and "not JSON" in msg and "cut off in the midd" in msg
    assert "1 more bad line" in msg and "doctor --quarantine" in msg
    assert [n for n, _, _ in err.value.bad] == [2, 4]


def test_a_number_too_long_to_convert_is_a_named_bad_line_not_a_crash(tmp_path):
    # json raises a plain ValueError (no .msg/.colno) for an integer past Python's 4300-digit limit;
    # the ledger used to fail on reading those attributes (found by the type checker).
    beads = tmp_path / ".beads"
    Ledger.init(beads, "bd")
    path = beads / "issues.jsonl"
    huge = GOOD2[:-1] + ',"n":' + "7" * 5000 + "}"
    path.write_text("\n".join([GOOD, huge]) + "\n")
    with pytest.raises(MalformedLedger) as err:
        Ledger.open(path)
    assert f"{path}:2:" in str(err.value) and "not JSON" in str(err.value) and "4300 digits" in str(err.value)
    assert [i.id for i in Ledger.open(path, strict=False).all()] == ["bd-a1"]


def test_nothing_is_written_while_a_bad_line_exists(bad_ledger):
    tmp, path = bad_ledger
    before = path.read_bytes()
    proc = bd("create", "new work", cwd=tmp, check=False)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and ":2: not JSON" in proc.stderr
    proc = bd("close", "bd-a1", cwd=tmp, check=False)
    assert proc.returncode == 1
    assert path.read_bytes() == before
    lenient = Ledger.open(path, strict=False)              # reading around the bad lines is possible...
    assert [i.id for i in lenient.all()] == ["bd-a1", "bd-b2"]
    with pytest.raises(Exception, match="refusing to write while 2 malformed"):
        lenient.update("bd-a1", title="nope")                 # ...writing is not
    assert path.read_bytes() == before


def test_doctor_reports_and_quarantine_moves_lines_verbatim(bad_ledger):
    tmp, path = bad_ledger
    proc = bd("doctor", cwd=tmp, check=False)
    assert proc.returncode == 1 and "malformed" in proc.stdout
    report = json.loads(bd("doctor", "--json", cwd=tmp, check=False).stdout)
    assert report["errors"] == 2
    assert {f["where"] for f in report["findings"] if f["check"] == "malformed"} == {f"{path}:2", f"{path}:4"}
    out = json.loads(bd("doctor", "--quarantine", "--json", cwd=tmp).stdout)
    assert [q["line"] for q in out["quarantined"]] == [2, 4] and out["errors"] == 0
    quarantine = path.parent / "quarantine.jsonl"
    assert quarantine.read_text() == BROKEN + "\n" + NO_ID + "\n"
    assert path.read_text() == GOOD + "\n" + GOOD2 + "\n"       # the good lines byte for byte
    assert [r["id"] for r in bd_json("list", cwd=tmp)] == ["bd-a1", "bd-b2"]


def test_doctor_finds_semantic_problems(tmp_path):
    beads = tmp_path / ".beads"
    ledger = Ledger.init(beads, "bd")
    a = ledger.create("a")
    b = ledger.create("b", deps=[("blocks", a.id)])
    # Hand-edit a cycle, a dangling edge and a closed bead without closed_at into the file.
    recs = [json.loads(x) for x in ledger.path.read_text().splitlines()]
    for r in recs:
        if r["id"] == a.id:
            r["dependencies"] = [{"issue_id": a.id, "depends_on_id": b.id, "type": "blocks",
                                  "created_at": r["created_at"]},
                                 {"issue_id": a.id, "depends_on_id": "bd-gone", "type": "blocks",
                                  "created_at": r["created_at"]}]
            r["status"] = "closed"
    ledger.path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    report = json.loads(bd("doctor", "--json", cwd=tmp_path, check=False).stdout)
    checks = {f["check"] for f in report["findings"]}
    assert {"cycle", "dangling", "closed-at"} <= checks


def test_invalid_utf8_is_reported_with_its_line(tmp_path):
    beads = tmp_path / ".beads"
    Ledger.init(beads, "bd")
    (beads / "issues.jsonl").write_bytes(GOOD.encode() + b"\n" + b'{"id":"bd-x","title":"\xff\xfe"}\n')
    with pytest.raises(MalformedLedger, match=r"issues.jsonl:2: not valid UTF-8"):
        Ledger.open(beads)


def test_quarantine_moves_invalid_utf8_bytes_verbatim(tmp_path):
    beads = tmp_path / ".beads"
    Ledger.init(beads, "bd")
    bad = b'{"id":"bd-x","title":"\xff\xfe"}'
    (beads / "issues.jsonl").write_bytes(GOOD.encode() + b"\n" + bad + b"\n")
    out = json.loads(bd("doctor", "--quarantine", "--json", cwd=tmp_path).stdout)
    assert [q["line"] for q in out["quarantined"]] == [2]
    assert (beads / "quarantine.jsonl").read_bytes() == bad + b"\n"
    assert (beads / "issues.jsonl").read_bytes() == GOOD.encode() + b"\n"
