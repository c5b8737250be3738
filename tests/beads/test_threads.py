"""Threads of one process (the app's workers, the patrols) share Ledger objects."""
from __future__ import annotations

import json
import threading

from gastown_tui.beads import Ledger


def test_threads_sharing_one_ledger_lose_no_change(tmp_path):
    ledger = Ledger.init(tmp_path / ".beads", "th")
    ids = [ledger.create(f"bead {i}").id for i in range(8)]
    errors = []

    def worker(n: int) -> None:
        try:
            for k in range(15):
                with ledger.transaction():
                    ledger.add_label(ids[n], f"t{n}-{k}")
        except Exception as exc:  # reported below; a lost update or a torn write fails the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    lines = (tmp_path / ".beads" / "issues.jsonl").read_text().splitlines()
    records = {r["id"]: r for r in map(json.loads, lines)}
    for n, bead in enumerate(ids):
        assert sorted(records[bead]["labels"]) == sorted(f"t{n}-{k}" for k in range(15))


def test_threads_with_their_own_ledger_objects_lose_no_change(tmp_path):
    Ledger.init(tmp_path / ".beads", "th")
    first = Ledger.open(tmp_path / ".beads")
    bead = first.create("shared").id
    errors = []

    def worker(n: int) -> None:
        own = Ledger.open(tmp_path / ".beads")
        try:
            for k in range(15):
                own.add_label(bead, f"t{n}-{k}")
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    again = Ledger.open(tmp_path / ".beads")
    assert len(again.get(bead).labels) == 6 * 15
