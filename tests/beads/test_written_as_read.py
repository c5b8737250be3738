"""A record this process writes is held in memory exactly as the file now has it, even when the file's
own style rewrites it (here: fixed nine-digit fractions): a long-lived process (the town server) answers
from memory, and must print what a fresh reader of the file would."""
from __future__ import annotations

import json

from gastown_tui.beads import Ledger, mutations
from gastown_tui.beads.codec import encode


def test_a_new_record_in_a_nine_digit_file_reads_back_as_the_file_has_it(tmp_path, monkeypatch):
    beads = tmp_path / ".beads"
    Ledger.init(beads, "nd")
    lines = [encode({"id": f"nd-{n}", "title": f"old {n}", "status": "open", "priority": 2, "issue_type": "task",
                     "created_at": f"2026-01-01T00:00:0{n}.100000000Z", "updated_at": f"2026-01-01T00:00:0{n}.100000000Z"})
             for n in range(5)]  # canonical lines whose writer keeps nine digits (Go would trim the zeros)
    (beads / "issues.jsonl").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(mutations, "now", lambda: "2026-01-02T00:00:00.5Z")  # Go's trimmed form
    ledger = Ledger.open(beads)
    bead = ledger.create("new")
    on_disk = {json.loads(line)["id"]: json.loads(line) for line in (beads / "issues.jsonl").read_text().splitlines()}
    assert on_disk[bead.id]["created_at"] == "2026-01-02T00:00:00.500000000Z"  # the file's own style
    held = next(r for r in ledger.raw_list() if r["id"] == bead.id)
    assert held == on_disk[bead.id]
    assert Ledger.open(beads).raw_list() == ledger.raw_list()  # a fresh reader agrees
