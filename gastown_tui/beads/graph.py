"""Blocked and ready work over plain bead records (reference/beads-format.md §3).

A bead is blocked when
  1. it `blocks`-depends on a bead that is not closed (closed, pinned and tombstoned
     beads, and ids that exist nowhere, do not block; `external:` targets do);
  2. it `conditional-blocks`-depends on a bead that is not closed with a failure reason;
  3. it `waits-for` a spawner whose children are not all closed (`all-children`, the
     default) or none of whose children is closed yet (`any-children`);
  4. its parent (its `parent-child` edge, else its dotted id prefix) is blocked:
     blocking propagates down to children, never up.
"""
from __future__ import annotations

import json

from gastown_tui.beads.timestamps import now_ns, to_ns_or

BLOCKING_TYPES = frozenset({"blocks", "parent-child", "conditional-blocks", "waits-for"})
NOT_BLOCKING_STATUSES = frozenset({"closed", "pinned", "tombstone"})
FAILURE_KEYWORDS = (
    "failed", "rejected", "wontfix", "won't fix", "canceled", "cancelled",
    "abandoned", "blocked", "error", "timeout", "aborted",
)
READY_STATUSES = frozenset({"open", "in_progress"})
EXCLUDED_TYPES = frozenset({"merge-request", "gate", "molecule", "message", "agent", "role", "rig"})
EXCLUDED_ID_PATTERNS = ("-mol-", "-wisp-")
RECENT_NS = 48 * 3600 * 1_000_000_000


def is_failure(reason: str | None) -> bool:
    text = (reason or "").lower()
    return any(k in text for k in FAILURE_KEYWORDS)


def parent_of(rec: dict, records: dict) -> str | None:
    """The parent id: the `parent-child` edge, else the dotted prefix when that bead exists."""
    for dep in rec.get("dependencies") or ():
        if dep.get("type") == "parent-child":
            return dep.get("depends_on_id")
    head, dot, _ = rec["id"].rpartition(".")
    if dot and head in records:
        return head
    return None


def children_index(records: dict) -> dict[str, list[str]]:
    """parent id -> child ids (live beads only), each list in id order."""
    out: dict[str, list[str]] = {}
    for rid, rec in records.items():
        if rec.get("status") == "tombstone":
            continue
        parent = parent_of(rec, records)
        if parent is not None:
            out.setdefault(parent, []).append(rid)
    for kids in out.values():
        kids.sort()
    return out


def _gate(dep: dict) -> tuple[str, str | None]:
    meta = dep.get("metadata")
    if isinstance(meta, str) and meta.strip():
        try:
            meta = json.loads(meta)
        except ValueError:
            meta = None
    if isinstance(meta, dict):
        return str(meta.get("gate") or "all-children"), meta.get("spawner_id")
    return "all-children", None


class BlockedIndex:
    """Which beads are blocked, and by what, for one state of the records."""

    def __init__(self, records: dict[str, dict]):
        self.records = records
        self.children = children_index(records)
        self.blockers: dict[str, list[str]] = {}
        self._compute()

    def _status(self, rid: str) -> str | None:
        rec = self.records.get(rid)
        return None if rec is None else (rec.get("status") or "open")

    def _direct(self, rec: dict) -> list[str]:
        out: list[str] = []
        for dep in rec.get("dependencies") or ():
            kind = dep.get("type")
            if kind not in BLOCKING_TYPES or kind == "parent-child":
                continue
            target = dep.get("depends_on_id") or ""
            if kind == "blocks":
                if target.startswith("external:"):
                    out.append(target)      # not resolvable here: unsatisfied
                    continue
                status = self._status(target)
                if status is not None and status not in NOT_BLOCKING_STATUSES:
                    out.append(target)
            elif kind == "conditional-blocks":
                blocker = self.records.get(target)
                if blocker is None or blocker.get("status") == "tombstone":
                    continue
                if blocker.get("status") != "closed" or not is_failure(blocker.get("close_reason")):
                    out.append(target)
            elif kind == "waits-for":
                gate, spawner = _gate(dep)
                spawner = spawner or target
                kids = [k for k in self.children.get(spawner, ()) if k != rec["id"]]
                if not kids:
                    continue
                closed = [k for k in kids if self._status(k) == "closed"]
                if gate == "any-children":
                    if not closed:
                        out.append(target)
                elif len(closed) < len(kids):
                    out.append(target)
        return out

    def _compute(self) -> None:
        blockers = self.blockers
        records = self.records
        for rid, rec in records.items():
            deps = rec.get("dependencies")
            if not deps or rec.get("status") in ("closed", "tombstone"):
                continue
            direct = self._direct(rec)
            if direct:
                blockers[rid] = direct
        # Propagate down parent-child edges (breadth first, depth-limited like Beads: 50).
        frontier = list(blockers)
        for _ in range(50):
            nxt = []
            for parent in frontier:
                for kid in self.children.get(parent, ()):
                    krec = records.get(kid)
                    if krec is None or krec.get("status") in ("closed", "tombstone"):
                        continue
                    if kid not in blockers:
                        blockers[kid] = [parent]
                        nxt.append(kid)
                    elif parent not in blockers[kid]:
                        blockers[kid].append(parent)
            if not nxt:
                break
            frontier = nxt

    def is_blocked(self, rid: str) -> bool:
        return rid in self.blockers

    def descendants(self, rid: str) -> set[str]:
        out: set[str] = set()
        stack = [rid]
        while stack:
            for kid in self.children.get(stack.pop(), ()):
                if kid not in out:
                    out.add(kid)
                    stack.append(kid)
        return out


def ready(records: dict[str, dict], index: BlockedIndex, *, assignee=None, unassigned=False, label=None,
          parent=None, limit=None, sort="hybrid", include_ephemeral=False, now: int | None = None) -> list[dict]:
    """The ready records, ordered as Beads orders them."""
    now = now_ns() if now is None else now
    scope = index.descendants(parent) if parent else None
    # Inside a molecule (parent given) its -mol-/-wisp- steps and wisps are the point.
    check_patterns = parent is None
    include_ephemeral = include_ephemeral or parent is not None
    blocked = index.blockers
    labels = [label] if isinstance(label, str) else list(label or ())
    out = []
    for rid, rec in records.items() if scope is None else ((k, records[k]) for k in scope if k in records):
        if (rec.get("status") or "open") not in READY_STATUSES or rid in blocked:
            continue
        if rec.get("pinned") or rec.get("is_template"):
            continue
        if not include_ephemeral and (rec.get("ephemeral") or rec.get("wisp")):
            continue
        if (rec.get("issue_type") or "task") in EXCLUDED_TYPES:
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
        defer = rec.get("defer_until")
        if defer and to_ns_or(defer) > now:
            continue
        out.append(rec)
    # A child of a parent deferred into the future waits too.
    out = [r for r in out if not _deferred_parent(r, records, now)]
    out.sort(key=_sort_key(sort, now))
    return out[:limit] if limit else out


def _deferred_parent(rec: dict, records: dict, now: int) -> bool:
    seen = 0
    cur = rec
    while seen < 50:
        pid = parent_of(cur, records)
        if pid is None or pid not in records:
            return False
        cur = records[pid]
        defer = cur.get("defer_until")
        if defer and to_ns_or(defer) > now:
            return True
        seen += 1
    return False


def _sort_key(sort: str, now: int):
    if sort == "priority":
        def key(r):
            return (_prio(r), -to_ns_or(r.get("created_at")), r["id"])
    elif sort == "oldest":
        def key(r):
            return (to_ns_or(r.get("created_at")), r["id"])
    elif sort == "hybrid":
        cutoff = now - RECENT_NS

        def key(r):
            created = to_ns_or(r.get("created_at"))
            if created >= cutoff:
                return (0, _prio(r), created, r["id"])
            return (1, 0, created, r["id"])
    else:
        raise ValueError(f"unknown sort {sort!r} (hybrid, priority or oldest)")
    return key


def _prio(r: dict) -> int:
    p = r.get("priority")
    return p if isinstance(p, int) else 0


def find_cycle(records: dict[str, dict], start: str, target: str, extra_children=None) -> list[str] | None:
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
                path.reverse()           # target ... start? build start -> target -> ... -> start
                return [start] + path
            stack.append(nxt)
    return None
