"""The blocked-work index, kept up to date one record change at a time.

A bead is blocked when
  1. it `blocks`-depends on a bead that is not closed (closed, pinned and tombstoned
     beads, and ids that exist nowhere, do not block; `external:` targets do);
  2. it `conditional-blocks`-depends on a bead that is not closed with a failure reason;
  3. it `waits-for` a spawner whose children are not all closed (`all-children`, the
     default) or none of whose children is closed yet (`any-children`);
  4. its parent (its `parent-child` edge, else its dotted id prefix) is blocked:
     blocking propagates down to children, never up.

Building the index walks every record once; after that `apply(id, record)` updates
it for one changed record by recomputing only the beads that change could affect
(the record, beads depending on it, fan-in gates on its parent, and their
descendants), so a ready query never pays for a full walk again.
"""
from __future__ import annotations

import bisect
import json

from gastown_tui.timestamps import to_ns_or as _ns, to_ns_or


def to_ns(text: str) -> int:
    return _ns(text, 0)

BLOCKING_TYPES = frozenset({"blocks", "parent-child", "conditional-blocks", "waits-for"})
NOT_BLOCKING_STATUSES = frozenset({"closed", "pinned", "tombstone"})
FAILURE_KEYWORDS = (
    "failed", "rejected", "wontfix", "won't fix", "canceled", "cancelled",
    "abandoned", "blocked", "error", "timeout", "aborted",
)
EXCLUDED_TYPES = frozenset({"merge-request", "gate", "molecule", "message", "agent", "role", "rig"})
MAX_PROPAGATION = 50


def is_failure(reason: str | None) -> bool:
    text = (reason or "").lower()
    return any(k in text for k in FAILURE_KEYWORDS)


def is_workable(rec: dict) -> bool:
    """Open or in progress, not pinned, not a template, not an excluded (infrastructure) type."""
    status = rec.get("status")
    return (status is None or status == "open" or status == "in_progress") and not (
        rec.get("pinned") or rec.get("is_template") or rec.get("issue_type") in EXCLUDED_TYPES)


def gate_of(dep: dict) -> tuple[str, str | None]:
    """A waits-for edge's gate (`all-children`/`any-children`) and optional spawner id."""
    meta = dep.get("metadata")
    if isinstance(meta, str) and meta.strip():
        try:
            meta = json.loads(meta)
        except ValueError:
            meta = None
    if isinstance(meta, dict):
        return str(meta.get("gate") or "all-children"), meta.get("spawner_id")
    return "all-children", None


def _live(rec: dict | None) -> bool:
    return rec is not None and rec.get("status") != "tombstone"


class BlockedIndex:
    """Which beads are blocked, and by what; plus children, workable beads and deferrals."""

    def __init__(self, records: dict[str, dict]):
        self.records = records                      # id -> record (updated by apply)
        self.parent: dict[str, str] = {}
        self.children: dict[str, list[str]] = {}    # each list in id order
        self.dependents: dict[str, set[str]] = {}   # target -> beads with blocks/conditional-blocks on it
        self.waiters: dict[str, set[str]] = {}      # spawner -> beads with waits-for on it
        self.dotted: dict[str, set[str]] = {}       # head -> dotted ids without a parent-child edge
        self.workable: dict[str, tuple[dict, int]] = {}   # id -> (record, created_at in ns)
        self.deferred: dict[str, dict] = {}
        self.direct: dict[str, list[str]] = {}
        self.blockers: dict[str, list[str]] = {}
        self._facts: dict[str, tuple] = {}
        self.memo: dict = {}                        # graph.ready's answers; cleared by every change
        self._building = True                       # append children now, sort each list once below
        for rid, rec in records.items():
            self._link(rid, rec)
        self._building = False
        for kids in self.children.values():
            if len(kids) > 1:
                kids.sort()
        for rid, facts in self._facts.items():
            if facts[2] or facts[3]:
                self._set_direct(rid)
        self._propagate_all()

    # ---- structure -----------------------------------------------------------------------
    def _link(self, rid: str, rec: dict) -> None:
        status = rec.get("status")
        if status == "tombstone":
            return
        edge_parent = None
        targets = spawners = None
        deps = rec.get("dependencies")
        if deps:
            for dep in deps:
                kind = dep.get("type")
                if kind == "parent-child":
                    if edge_parent is None:
                        edge_parent = dep.get("depends_on_id")
                elif kind == "blocks" or kind == "conditional-blocks":
                    t = dep.get("depends_on_id") or ""
                    if targets is None:
                        targets = [t]
                    else:
                        targets.append(t)
                    s = self.dependents.get(t)
                    if s is None:
                        self.dependents[t] = {rid}
                    else:
                        s.add(rid)
                elif kind == "waits-for":
                    sp = gate_of(dep)[1] or dep.get("depends_on_id") or ""
                    if spawners is None:
                        spawners = [sp]
                    else:
                        spawners.append(sp)
                    self.waiters.setdefault(sp, set()).add(rid)
        head = None
        parent = edge_parent
        if parent is None and "." in rid:
            head = rid.rpartition(".")[0]
            self.dotted.setdefault(head, set()).add(rid)
            if _live(self.records.get(head)):
                parent = head
        if parent is not None:
            self.parent[rid] = parent
            kids = self.children.get(parent)
            if kids is None:
                self.children[parent] = [rid]
            elif self._building or kids[-1] < rid:
                kids.append(rid)
            else:
                bisect.insort(kids, rid)
        if (status is None or status == "open" or status == "in_progress") and not (
                rec.get("pinned") or rec.get("is_template") or rec.get("issue_type") in EXCLUDED_TYPES):
            created = rec.get("created_at")
            self.workable[rid] = (rec, to_ns(created) if created else 0)
        if rec.get("defer_until"):
            self.deferred[rid] = rec
        self._facts[rid] = (parent, head, targets, spawners)

    def _unlink(self, rid: str) -> None:
        facts = self._facts.pop(rid, None)
        if facts is None:
            return
        parent, head, targets, spawners = facts
        if parent is not None:
            self.parent.pop(rid, None)
            kids = self.children.get(parent)
            if kids is not None:
                i = bisect.bisect_left(kids, rid)
                if i < len(kids) and kids[i] == rid:
                    del kids[i]
                if not kids:
                    del self.children[parent]
        if head is not None:
            waiting = self.dotted.get(head)
            if waiting is not None:
                waiting.discard(rid)
                if not waiting:
                    del self.dotted[head]
        for t in targets or ():
            s = self.dependents.get(t)
            if s is not None:
                s.discard(rid)
                if not s:
                    del self.dependents[t]
        for sp in spawners or ():
            s = self.waiters.get(sp)
            if s is not None:
                s.discard(rid)
                if not s:
                    del self.waiters[sp]
        self.workable.pop(rid, None)
        self.deferred.pop(rid, None)

    # ---- blocking ------------------------------------------------------------------------
    def _status(self, rid: str) -> str | None:
        rec = self.records.get(rid)
        return None if rec is None else (rec.get("status") or "open")

    def _direct_of(self, rec: dict) -> list[str]:
        out: list[str] = []
        for dep in rec.get("dependencies") or ():
            kind = dep.get("type")
            if kind == "blocks":
                target = dep.get("depends_on_id") or ""
                if target.startswith("external:"):
                    out.append(target)          # not resolvable here: unsatisfied
                    continue
                status = self._status(target)
                if status is not None and status not in NOT_BLOCKING_STATUSES:
                    out.append(target)
            elif kind == "conditional-blocks":
                target = dep.get("depends_on_id") or ""
                blocker = self.records.get(target)
                if blocker is None or blocker.get("status") == "tombstone":
                    continue
                if blocker.get("status") != "closed" or not is_failure(blocker.get("close_reason")):
                    out.append(target)
            elif kind == "waits-for":
                target = dep.get("depends_on_id") or ""
                gate, spawner = gate_of(dep)
                kids = [k for k in self.children.get(spawner or target, ()) if k != rec["id"]]
                if not kids:
                    continue
                closed = sum(1 for k in kids if self._status(k) == "closed")
                if (gate == "any-children" and not closed) or (gate != "any-children" and closed < len(kids)):
                    out.append(target)
        return out

    def _set_direct(self, rid: str) -> None:
        rec = self.records.get(rid)
        if rec is None or rec.get("status") in ("closed", "tombstone"):
            self.direct.pop(rid, None)
            return
        d = self._direct_of(rec)
        if d:
            self.direct[rid] = d
        else:
            self.direct.pop(rid, None)

    def _propagate_all(self) -> None:
        blockers = self.blockers
        blockers.clear()
        for rid, d in self.direct.items():
            blockers[rid] = list(d)
        frontier = list(blockers)
        for _ in range(MAX_PROPAGATION):
            nxt = []
            for parent in frontier:
                for kid in self.children.get(parent, ()):
                    krec = self.records.get(kid)
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

    def _depth(self, rid: str) -> int:
        n = 0
        cur = self.parent.get(rid)
        while cur is not None and n < MAX_PROPAGATION:
            n += 1
            cur = self.parent.get(cur)
        return n

    def _resolve(self, nodes: set[str]) -> None:
        """Recomputes blockers for `nodes` and everything below them, parents first."""
        todo = set()
        stack = list(nodes)
        while stack:
            x = stack.pop()
            if x in todo:
                continue
            todo.add(x)
            stack.extend(self.children.get(x, ()))
        for x in sorted(todo, key=self._depth):
            rec = self.records.get(x)
            if rec is None or rec.get("status") in ("closed", "tombstone"):
                self.blockers.pop(x, None)
                continue
            b = list(self.direct.get(x, ()))
            p = self.parent.get(x)
            if p is not None and p in self.blockers and p not in b:
                b.append(p)
            if b:
                self.blockers[x] = b
            else:
                self.blockers.pop(x, None)

    def apply(self, rid: str, new: dict | None) -> None:
        """Brings the index up to date after `records[rid]` became `new` (None: removed)."""
        old = self.records.get(rid)
        if old is new:
            return
        self.memo.clear()
        old_parent = self.parent.get(rid)
        self._unlink(rid)
        if new is None:
            self.records.pop(rid, None)
        else:
            self.records[rid] = new
            self._link(rid, new)
        affected = {rid}
        if _live(old) != _live(new):
            # Dotted ids waiting for this head gain or lose it as their parent.
            for kid in list(self.dotted.get(rid, ())):
                kid_parent = self.parent.get(kid)
                self._unlink(kid)
                self._link(kid, self.records[kid])
                if self.parent.get(kid) != kid_parent:
                    affected.add(kid)
                    for p in (kid_parent, self.parent.get(kid)):
                        if p is not None:
                            affected |= self.waiters.get(p, set())
        affected |= self.dependents.get(rid, set())
        affected |= self.waiters.get(rid, set())
        for p in (old_parent, self.parent.get(rid)):
            if p is not None:
                affected |= self.waiters.get(p, set())
        for x in affected:
            if x in self._facts and (self._facts[x][2] or self._facts[x][3]):
                self._set_direct(x)
            else:
                self.direct.pop(x, None)
        self._resolve(affected)

    # ---- queries -------------------------------------------------------------------------
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
        for rid, rec in self.deferred.items():
            if to_ns_or(rec.get("defer_until")) > now:
                out.add(rid)
                out |= self.descendants(rid)
        return out
