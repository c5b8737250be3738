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

import heapq
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
        self.children: dict[str, list[str]] = {}
        self.blockers: dict[str, list[str]] = {}
        self.deferred: list[dict] = []          # records with a defer_until (checked at query time)
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
        records = self.records
        children = self.children
        deferred = self.deferred
        blocking_types = BLOCKING_TYPES
        candidates = []
        for rid, rec in records.items():
            status = rec.get("status")
            if status == "tombstone":
                continue
            if "defer_until" in rec and rec["defer_until"]:
                deferred.append(rec)
            parent = None
            deps = rec.get("dependencies")
            if deps:
                blocking = False
                for dep in deps:
                    kind = dep.get("type")
                    if kind == "parent-child":
                        if parent is None:
                            parent = dep.get("depends_on_id")
                    elif kind in blocking_types:
                        blocking = True
                if blocking and status != "closed":
                    candidates.append(rec)
            if parent is None and "." in rid:
                head = rid.rpartition(".")[0]
                if head in records:
                    parent = head
            if parent is not None:
                kids = children.get(parent)
                if kids is None:
                    children[parent] = [rid]
                else:
                    kids.append(rid)
        for kids in children.values():
            if len(kids) > 1:
                kids.sort()
        blockers = self.blockers
        for rec in candidates:
            direct = self._direct(rec)
            if direct:
                blockers[rec["id"]] = direct
        # Propagate down parent-child edges (breadth first, depth-limited like Beads: 50).
        frontier = list(blockers)
        for _ in range(50):
            nxt = []
            for parent in frontier:
                for kid in children.get(parent, ()):
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

    def deferred_now(self, now: int) -> set[str]:
        """Ids hidden by a future defer_until: the bead itself and all its descendants."""
        out: set[str] = set()
        for rec in self.deferred:
            if to_ns_or(rec.get("defer_until")) > now:
                out.add(rec["id"])
                out |= self.descendants(rec["id"])
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
    hidden = index.deferred_now(now) if index.deferred else ()
    labels = [label] if isinstance(label, str) else list(label or ())
    excluded_types = EXCLUDED_TYPES
    out = []
    items = records.items() if scope is None else ((k, records[k]) for k in scope if k in records)
    for rid, rec in items:
        status = rec.get("status")
        if (status is not None and status != "open" and status != "in_progress") or rid in blocked:
            continue
        if rec.get("pinned") or rec.get("is_template"):
            continue
        if not include_ephemeral and (rec.get("ephemeral") or rec.get("wisp")):
            continue
        if rec.get("issue_type") in excluded_types:
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
        out.append(rec)
    key = _sort_key(sort, now)
    if limit and limit < len(out):
        return heapq.nsmallest(limit, out, key=key)
    out.sort(key=key)
    return out


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
