"""Per-parent child counters: a hard-deleted child's number `parent.N` is never handed out again.

Beads keeps the highest child number given under each parent. Here that lives in
`.beads/child_counters.json` (git-ignored, like the wisp store): `{parent id: highest N}`.
It is written only when a delete removes a numbered child (`parent.N`), and it only
ever grows; the next child is one more than the larger of it and the children that
still exist. An entry goes when its parent itself is deleted.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from gastown_tui.atomicfile import write_atomic
from gastown_tui.beads.errors import LedgerError

COUNTERS_NAME = "child_counters.json"
IGNORE_LINES = (COUNTERS_NAME, f".{COUNTERS_NAME}.*.tmp")


def read_counters(beads_dir: Path) -> dict[str, int]:
    """The stored counters ({} when there are none); LedgerError names the file if it is not valid."""
    path = Path(beads_dir) / COUNTERS_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise LedgerError(f"{path}: not valid JSON ({exc}); delete the file to start the counters afresh") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and type(v) is int for k, v in data.items()):
        raise LedgerError(f"{path}: expected an object of parent id -> highest child number")
    return data


def last_child(beads_dir: Path, parent_id: str) -> int:
    return read_counters(beads_dir).get(parent_id, 0)


def numbered_child(bead_id: str) -> tuple[str, int] | None:
    """(parent, N) for an id `parent.N`; None for top-level or named (`root.step`) ids."""
    head, dot, tail = bead_id.rpartition(".")
    if dot and tail.isdigit() and tail.isascii():
        return head, int(tail)
    return None


def remember_deleted(beads_dir: Path, deleted_ids: Iterable[str]) -> bool:
    """Raises the counters past every numbered child in `deleted_ids` and drops the entries of
    deleted parents. Call it under the ledger's lock. True when the file was rewritten."""
    deleted = set(deleted_ids)
    highest: dict[str, int] = {}
    for rid in deleted:
        pair = numbered_child(rid)
        if pair is not None and pair[0] not in deleted:
            parent, n = pair
            if n > highest.get(parent, 0):
                highest[parent] = n
    beads_dir = Path(beads_dir)
    if not highest and not (beads_dir / COUNTERS_NAME).exists():
        return False
    counters = read_counters(beads_dir)
    new = {k: v for k, v in counters.items() if k not in deleted}
    for parent, n in highest.items():
        if n > new.get(parent, 0):
            new[parent] = n
    if new == counters:
        return False
    write_atomic(beads_dir / COUNTERS_NAME, json.dumps(new, sort_keys=True, indent=0) + "\n")
    _ensure_ignored(beads_dir)
    return True


def _ensure_ignored(beads_dir: Path) -> None:
    """Ledgers made before the counters existed get the file added to `.beads/.gitignore`."""
    ignore = beads_dir / ".gitignore"
    try:
        text = ignore.read_text(encoding="utf-8")
    except FileNotFoundError:
        return                      # not a ledger we initialised: leave its git setup alone
    have = set(text.split())
    missing = [line for line in IGNORE_LINES if line not in have]
    if missing:
        sep = "" if text.endswith("\n") or not text else "\n"
        with open(ignore, "a", encoding="utf-8") as fh:
            fh.write(sep + "\n".join(missing) + "\n")
