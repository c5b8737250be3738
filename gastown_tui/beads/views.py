"""Read-only views for the command line: dependency trees and ledger statistics (plain data)."""
from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gastown_tui.beads.ledger import Ledger


def dep_tree(ledger: Ledger, bead_id: str, reverse: bool = False, max_depth: int = 50) -> dict:
    """{"id","title","status","dep_type","children":[...]} following dependencies (or dependents)."""
    ledger.raw(bead_id)
    records = ledger._all_records(True)
    dependents: dict[str, list[tuple[str, str]]] = {}
    if reverse:
        for rid, rec in records.items():
            for dep in rec.get("dependencies") or ():
                dependents.setdefault(dep.get("depends_on_id"), []).append((rid, dep.get("type")))

    def node(rid: str, dep_type: str | None, seen: tuple, depth: int) -> dict:
        rec = records.get(rid)
        out: dict[str, object] = {"id": rid, "title": rec.get("title") if rec else None,
                                  "status": (rec.get("status") or "open") if rec else "missing",
                                  "dep_type": dep_type, "children": []}
        if rid in seen:
            out["cycle"] = True
            return out
        if depth >= max_depth or rec is None:
            return out
        if reverse:
            edges = sorted(dependents.get(rid, ()))
        else:
            edges = [(d.get("depends_on_id"), d.get("type")) for d in rec.get("dependencies") or ()]
        out["children"] = [node(t, k, seen + (rid,), depth + 1) for t, k in edges]
        return out

    return node(bead_id, None, (), 0)


def stats(ledger: Ledger) -> dict:
    records = ledger._all_records(True)
    by_status: Counter = Counter()
    by_type: Counter = Counter()
    wisps = 0
    for rec in records.values():
        by_status[rec.get("status") or "open"] += 1
        by_type[rec.get("issue_type") or "task"] += 1
        if rec.get("ephemeral") or rec.get("wisp"):
            wisps += 1
    index = ledger.blocked_index(wisps=True)
    live = sum(n for s, n in by_status.items() if s != "tombstone")
    report = ledger.report
    return {
        "path": str(ledger.path),
        "prefix": ledger.prefix,
        "total": live,
        "by_status": dict(sorted(by_status.items())),
        "by_type": dict(sorted(by_type.items())),
        "open": by_status.get("open", 0),
        "in_progress": by_status.get("in_progress", 0),
        "closed": by_status.get("closed", 0),
        "tombstones": by_status.get("tombstone", 0),
        "blocked": sum(1 for rid in index.blockers if rid in records),
        "ready": len(ledger.raw_ready(limit=None)),
        "wisps": wisps,
        "duplicate_ids_resolved": len(report.duplicates),
    }
