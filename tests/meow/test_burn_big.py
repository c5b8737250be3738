"""Burning and squashing Hanoi-sized wisps: nothing left behind, and linear time (one bulk delete)."""
from __future__ import annotations

import time

from gastown_tui.beads.fields import parse_fields
from gastown_tui.beads.ledger import RawLedger
from gastown_tui.meow import burn, squash, wisp

from .helpers import builtin_library, issues_text, wisp_file_ids


def test_burning_a_14_disc_hanoi_wisp_leaves_no_trace(tmp_path):
    ledger = RawLedger.init(tmp_path / ".beads", "gt")
    work = ledger.create("Solve the puzzle")["id"]
    start = time.perf_counter()
    root = wisp(ledger, "towers-of-hanoi", {"discs": "14"}, builtin_library(), on=work)
    made = time.perf_counter() - start
    assert len(wisp_file_ids(ledger.beads_dir)) == 2 ** 14         # 16,383 steps + the root
    assert f'"id":"{root}' not in issues_text(ledger.beads_dir)      # only the work bead names it

    reader = RawLedger.open(ledger.beads_dir)                        # as `gastown mol burn` would
    start = time.perf_counter()
    burn(reader, root)
    burned = time.perf_counter() - start

    assert wisp_file_ids(ledger.beads_dir) == set()
    assert root not in (ledger.beads_dir / "wisps.jsonl").read_text()
    text = issues_text(ledger.beads_dir)
    assert root not in text
    assert parse_fields(RawLedger.open(ledger.beads_dir).raw(work)["description"])["attached_molecule"] is None
    fresh = RawLedger.open(ledger.beads_dir)
    assert fresh.raw_find(root) is None
    assert [r["id"] for r in fresh.raw_list(include_closed=True)] == [work]
    # Deleting step by step rescanned every record per step (hundreds of times slower at this size);
    # one bulk delete costs about what making the wisp did.
    assert burned < 5 * made + 1, f"burn took {burned:.1f} s, making the wisp {made:.1f} s"


def test_squashing_a_big_wisp_leaves_only_the_digest(tmp_path):
    ledger = RawLedger.init(tmp_path / ".beads", "gt")
    root = wisp(ledger, "towers-of-hanoi", {"discs": "11"}, builtin_library())
    digest = squash(RawLedger.open(ledger.beads_dir), root, force=True)
    assert wisp_file_ids(ledger.beads_dir) == set()
    fresh = RawLedger.open(ledger.beads_dir)
    rec = fresh.raw(digest)
    assert rec["status"] == "closed" and f"squashed_from: {root}" in rec["description"]
    assert "0/2047 steps closed" in rec["description"]
    assert [r["id"] for r in fresh.raw_list(include_closed=True)] == [digest]
