"""Ready work over plain bead records (reference/beads-format.md §3); blocking lives in blocked.py."""
from __future__ import annotations

import heapq
from typing import Callable, Iterable

from gastown_tui.beads.blocked import (  # re-exported (`X as X`)
    BLOCKING_TYPES as BLOCKING_TYPES, EXCLUDED_TYPES as EXCLUDED_TYPES, FAILURE_KEYWORDS as FAILURE_KEYWORDS,
    NOT_BLOCKING_STATUSES as NOT_BLOCKING_STATUSES, BlockedIndex as BlockedIndex, gate_of as gate_of,
    is_failure as is_failure, is_workable as is_workable,
)
from gastown_tui.timestamps import now_ns, to_ns_or

READY_STATUSES = frozenset({"open", "in_progress"})
EXCLUDED_ID_PATTERNS = ("-mol-", "-wisp-")
RECENT_NS = 48 * 3600 * 1_000_000_000


def ready(records: dict[str, dict], index: BlockedIndex, *, assignee: str | None = None, unassigned: bool = False,
          label: str | Iterable[str] | None = None, parent: str | None = None, limit: int | None = None,
          sort: str = "hybrid", include_ephemeral: bool = False, now: int | None = None) -> list[dict]:
    """The ready records, ordered as Beads orders them.

    Remembered on the index (which forgets on every change) until the clock could change the answer: a
    long-lived process (the town server) answers a repeated `bd ready` without walking every bead."""
    memo_key = None
    if now is None:
        now = now_ns()
        memo_key = (assignee, unassigned, label if isinstance(label, (str, type(None))) else tuple(label), parent,
                    limit, sort, include_ephemeral)
        found = index.memo.get(memo_key)
        if found is not None and found[1] <= now < found[2]:
            return list(found[0])
    result, until = _ready(index, now, assignee, unassigned, label, parent, limit, sort, include_ephemeral)
    if memo_key is not None:
        if len(index.memo) > 64:
            index.memo.clear()
        index.memo[memo_key] = (result, now, until)
        return list(result)
    return result


def _ready(index: BlockedIndex, now: int, assignee: str | None, unassigned: bool,
           label: str | Iterable[str] | None, parent: str | None, limit: int | None, sort: str,
           include_ephemeral: bool) -> tuple[list[dict], float]:
    """(the ready records, the time in ns until which the same call gives the same answer)."""
    scope = index.descendants(parent) if parent else None
    # Inside a molecule (parent given) its -mol-/-wisp- steps and wisps are the point.
    check_patterns = parent is None
    include_ephemeral = include_ephemeral or parent is not None
    blocked = index.blockers
    hidden = index.deferred_now(now) if index.deferred else ()
    labels = [label] if isinstance(label, str) else list(label or ())
    out = []
    items: Iterable[tuple[dict, int]]
    if scope is None:
        items = index.workable.values()
    else:
        items = [index.workable[k] for k in scope if k in index.workable]
    for pair in items:
        rec = pair[0]
        rid = rec["id"]
        if rid in blocked:
            continue
        if not include_ephemeral and (rec.get("ephemeral") or rec.get("wisp")):
            continue
        if check_patterns and ("-mol-" in rid or "-wisp-" in rid):
            continue
        if assignee is not None and rec.get("assignee") != assignee:
            continue
        if unassigned and rec.get("assignee"):
            continue
        if labels:
            have = rec.get("labels") or ()
            if not all(lb in have for lb in labels):
                continue
        if hidden and rid in hidden:
            continue
        out.append(pair)
    key = _sort_key(sort, now)
    until = float("inf")
    if sort == "hybrid":  # a recent bead's place changes when it stops being recent
        cutoff = now - RECENT_NS
        recent = [created for _, created in out if created >= cutoff]
        if recent:
            until = min(recent) + RECENT_NS + 1
    if hidden:  # a deferred bead (and what is under it) shows when its time comes
        until = min([until] + [t for t in (to_ns_or(rec.get("defer_until")) for rec in index.deferred.values())
                               if t > now])
    if limit and limit < len(out):
        out = heapq.nsmallest(limit, out, key=key)
    else:
        out.sort(key=key)
    return [pair[0] for pair in out], until


def _sort_key(sort: str, now: int) -> Callable[[tuple[dict, int]], tuple]:
    """Key over (record, created_at ns) pairs."""
    if sort == "priority":
        def key(pair: tuple[dict, int]) -> tuple:
            r = pair[0]
            return (_prio(r), -pair[1], r["id"])
    elif sort == "oldest":
        def key(pair: tuple[dict, int]) -> tuple:
            return (pair[1], pair[0]["id"])
    elif sort == "hybrid":
        cutoff = now - RECENT_NS

        def key(pair: tuple[dict, int]) -> tuple:
            r, created = pair
            if created >= cutoff:
                return (0, _prio(r), created, r["id"])
            return (1, 0, created, r["id"])
    else:
        raise ValueError(f"unknown sort {sort!r} (hybrid, priority or oldest)")
    return key


def _prio(r: dict) -> int:
    p = r.get("priority")
    return p if isinstance(p, int) else 0


def find_cycle(records: dict[str, dict], start: str, target: str) -> list[str] | None:
    """If `start` would depend on `target`, the path target -> ... -> start that closes a cycle."""
    if start == target:
        return [start, start]
    # Edges: X -> Y when X has a blocking dependency on Y.
    prev: dict[str, str] = {target: ""}
    stack = [target]
    while stack:
        cur = stack.pop()
        rec = records.get(cur)
        if rec is None:
            continue
        for dep in rec.get("dependencies") or ():
            if dep.get("type") not in BLOCKING_TYPES:
                continue
            nxt = dep.get("depends_on_id")
            if nxt in prev:
                continue
            prev[nxt] = cur
            if nxt == start:
                path = [start]
                node = cur
                while node:
                    path.append(node)
                    node = prev[node]
                path.reverse()                    # target -> ... -> cur -> start
                return [start] + path
            stack.append(nxt)
    return None
