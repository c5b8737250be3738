"""The ledger's changing operations (mixed into Ledger; see ledger.py)."""
from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from gastown_tui.atomicfile import write_atomic
from gastown_tui.beads import graph, ids, validate
from gastown_tui.beads.actors import default_actor
from gastown_tui.beads.codec import encode
from gastown_tui.beads.counters import last_child, remember_deleted
from gastown_tui.beads.errors import ClaimConflict, CycleError, LedgerError, NotFound, ValidationError
from gastown_tui.timestamps import now
from gastown_tui.beads.wispsteps import WispSteps, is_lazy, remove_dir

if TYPE_CHECKING:
    from gastown_tui.beads.jsonl import JsonlFile
    from gastown_tui.beads.models import Comment

DEP_TYPES = frozenset({
    "blocks", "parent-child", "conditional-blocks", "waits-for", "related", "discovered-from",
    "replies-to", "relates-to", "duplicates", "supersedes", "authored-by", "assigned-to", "approved-by",
    "attests", "tracks", "until", "caused-by", "validates", "delegated-from", "blocked-by",
})
_FIXED = frozenset({"id", "created_at", "created_by"})
BULK_REINDEX = 1000     # delete_many drops the blocked index (rebuilt lazily) for batches this big
                        # that are at least a quarter of it


def _issue(rec):
    # Deferred on purpose: the models load pydantic; see ledger._issue_cls.
    from gastown_tui.beads.models import Issue

    return Issue.from_record(rec)


def _plain(value):
    """Pydantic models (and lists of them) as plain JSON values."""
    if hasattr(value, "to_record"):
        return value.to_record()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class MutationsMixin:
    """The ledger's changing operations, mixed into `Ledger` (and `RawLedger`).

    What it needs from its host, and nothing else: `transaction()` (lock, reload,
    save), `_locate(id) -> (store, record)`, `_main` and `_wstore()` (the JSONL
    and wisp stores), `_wisps`, `_index`, `_known_ids()`, `_all_records()`,
    `_missing(id)`, `_check_fields`, `prefix`, `beads_dir`, `wisps_path`,
    `custom_types`, `custom_statuses`, `raw_ready()`; declared below, so a type checker holds
    the host to them."""

    prefix: str
    beads_dir: Path
    wisps_path: Path
    _main: JsonlFile
    _wisps: JsonlFile
    _index: graph.BlockedIndex | None
    _lazy: dict[str, WispSteps]

    if TYPE_CHECKING:       # the host's methods (Ledger's); not defined here, so the host's always win
        def transaction(self) -> AbstractContextManager[Any]: ...

        def _locate(self, bead_id: str) -> tuple[JsonlFile | None, dict | None]: ...

        def _wstore(self) -> JsonlFile: ...

        def _known_ids(self) -> Iterator[str]: ...

        def _all_records(self, wisps: bool = True) -> dict[str, dict]: ...

        def _missing(self, bead_id: str) -> NotFound: ...

        def custom_types(self) -> list[str]: ...

        def custom_statuses(self) -> list[str]: ...

        def raw_ready(self, assignee: str | None = None, unassigned: bool = False,
                      label: str | Iterable[str] | None = None, parent: str | None = None,
                      limit: int | None = None, sort: str = "hybrid", include_ephemeral: bool = False,
                      wisps: bool | None = None) -> list[dict]: ...

    def _wrap(self, rec: dict):
        """What mutations return: an Issue model (RawLedger returns the stored dict instead)."""
        return _issue(rec)

    # ---- helpers -------------------------------------------------------------------------
    def _need(self, bead_id: str) -> tuple[JsonlFile, dict]:
        store, rec = self._locate(bead_id)
        if rec is None or store is None:
            raise self._missing(bead_id)
        return store, rec

    def _actor(self, actor):
        return actor or default_actor()

    def _dep_pair(self, pair) -> tuple[str, str]:
        """(dep_type, depends_on_id); (depends_on_id, dep_type) is accepted when unambiguous."""
        a, b = pair
        if a in DEP_TYPES and b not in DEP_TYPES:
            return a, b
        if b in DEP_TYPES and a not in DEP_TYPES:
            return b, a
        if self._locate(b)[1] is not None or b.startswith("external:"):
            return a, b
        return b, a

    def _check_fields(self, fields: dict) -> dict:
        out = {}
        for key, value in fields.items():
            value = _plain(value)
            if key == "title":
                value = validate.check_title(value)
            elif key == "priority":
                value = validate.check_priority(value)
            elif key == "status":
                value = validate.check_status(value, self.custom_statuses())
            elif key == "issue_type":
                value = validate.check_type(value, self.custom_types())
            elif key == "labels" and value is not None:
                value = sorted(set(value))
            out[key] = value
        return out

    # ---- create --------------------------------------------------------------------------
    def create(self, title, *, issue_type="task", priority=2, description="", parent=None, deps=(),
               labels=(), assignee=None, status="open", actor=None, id=None, infix=None, ephemeral=False,
               **fields):
        """A new bead (hash id, `parent.N` child, or the given id); returns the Issue."""
        title = validate.check_title(title)
        priority = validate.check_priority(priority)
        issue_type = validate.check_type(issue_type, self.custom_types())
        status = validate.check_status(status, self.custom_statuses())
        extra = self._check_fields({k: v for k, v in fields.items() if v is not None})
        actor = self._actor(actor)
        with self.transaction():
            if id is not None and parent is None:
                head = ids.parent_of(id)
                if head is not None and self._locate(head)[1] is not None:
                    parent = head
            if parent is not None and self._locate(parent)[0] is self._wisps and self._wisps.loaded:
                ephemeral = True            # a wisp's children are wisps too
            store = self._wstore() if ephemeral else self._main
            ts = now()
            if id is not None:
                if not ids.is_valid_id(id):
                    raise ValidationError(f"bad id {id!r}: use <prefix>-<name>, e.g. {self.prefix}-abc")
                if self._locate(id)[1] is not None:
                    raise LedgerError(f"bead {id} already exists")
                if ids.depth(id) > ids.MAX_DEPTH:
                    raise ValidationError(f"{id} is more than {ids.MAX_DEPTH} levels deep")
                new_id = id
            elif parent is not None:
                self._need(parent)
                try:
                    new_id = ids.next_child(parent, self._known_ids(),
                                            floor=last_child(self.beads_dir, parent))
                except ValueError as exc:
                    raise ValidationError(str(exc)) from None
            else:
                pfx = f"{self.prefix}-{infix}" if infix else self.prefix
                stem = pfx + "-"
                count = sum(1 for r in store.records if r.startswith(stem) and "." not in r)
                new_id = ids.generate(pfx, title, description or "", actor, ts,
                                      lambda c: c in store.records or c in self._main.records, count)
            rec = {"id": new_id, "title": title}
            if description:
                rec["description"] = description
            rec.update({"status": status, "priority": priority, "issue_type": issue_type})
            if assignee:
                rec["assignee"] = assignee
            rec.update({"created_at": ts, "created_by": actor, "updated_at": ts})
            if status == "closed":
                rec["closed_at"] = ts
            if labels:
                rec["labels"] = sorted(set(labels))
            dep_list = []
            if parent is not None:
                self._need(parent)
                dep_list.append(self._edge(new_id, parent, "parent-child", ts, actor))
            for pair in deps:
                dep_type, target = self._dep_pair(pair)
                validate.check_dep_type(dep_type)
                if not target.startswith("external:"):
                    self._need(target)
                if any(d["depends_on_id"] == target and d["type"] == dep_type for d in dep_list):
                    continue
                dep_list.append(self._edge(new_id, target, dep_type, ts, actor))
            if dep_list:
                rec["dependencies"] = dep_list
            if ephemeral:
                rec["ephemeral"] = True
            rec.update(extra)
            store.put(rec)
            return self._wrap(rec)

    @staticmethod
    def _edge(issue_id, target, dep_type, ts, actor, metadata=None) -> dict:
        edge = {"issue_id": issue_id, "depends_on_id": target, "type": dep_type, "created_at": ts,
                "created_by": actor}
        if metadata is not None:
            edge["metadata"] = metadata
        return edge

    def bulk_create(self, records, *, ephemeral: bool = False, actor=None) -> int:
        """Streams plain dict records into a store without building models; returns how many.

        Each record needs `id` and `title` (other fields default as in create); ids must be new.
        Wisps are appended to the wisp store; persistent beads are merged in id order. The
        whole batch is one atomic file replacement. The store is reloaded lazily afterwards.
        """
        actor = self._actor(actor)
        with self.transaction():
            self._main.save()
            store = self._wstore() if ephemeral else self._main
            store.save()
            existing = store.records
            other = self._main.records if ephemeral else (
                self._wstore().records if self.wisps_path.exists() else {})
            ts = now()
            seen: set[str] = set()
            count = 0

            def prepared():
                nonlocal count
                for rec in records:
                    rid = rec.get("id")
                    if not isinstance(rid, str) or not ids.is_valid_id(rid):
                        raise ValidationError(f"bulk record {count + 1}: bad or missing id {rid!r}")
                    if rid in existing or rid in other or rid in seen:
                        raise LedgerError(f"bulk record {count + 1}: bead {rid} already exists")
                    seen.add(rid)
                    validate.check_title(rec.get("title"))
                    out = {"id": rid, "title": rec["title"], "status": "open", "priority": 2,
                           "issue_type": "task", "created_at": ts, "created_by": actor, "updated_at": ts}
                    out.update(rec)
                    if ephemeral:
                        out["ephemeral"] = True
                    count += 1
                    yield out

            if not ephemeral:
                for out in prepared():
                    store.put(out)
                return count

            def chunks():
                if store.path.exists():
                    with open(store.path, encoding="utf-8") as fh:
                        while block := fh.read(1 << 20):
                            yield block
                    if block_end_needs_newline(store.path):
                        yield "\n"
                for out in prepared():
                    yield encode(out) + "\n"

            write_atomic(store.path, chunks(), sync_dir=True)
            store.unload()                 # reloaded from disk on next use
            return count

    # ---- update --------------------------------------------------------------------------
    def update(self, bead_id: str, *, actor=None, **fields):
        """Sets fields (None removes one); `updated_at` is set for you. Returns the Issue."""
        bad = _FIXED & fields.keys()
        if bad:
            raise ValidationError(f"cannot change {', '.join(sorted(bad))} of a bead")
        fields = self._check_fields(fields)
        with self.transaction():
            store, old = self._need(bead_id)
            rec = dict(old)
            ts = now()
            for key, value in fields.items():
                if value is None or (value == "" and key != "title"):
                    rec.pop(key, None)
                else:
                    rec[key] = value
            if "status" in fields:
                if fields["status"] == "closed" and old.get("status") != "closed":
                    rec.setdefault("closed_at", ts)
                elif fields["status"] != "closed":
                    rec.pop("closed_at", None)
                    if "close_reason" not in fields:
                        rec.pop("close_reason", None)
            rec["updated_at"] = ts
            store.put(rec)
            return self._wrap(rec)

    def close(self, bead_id: str, reason=None, actor=None):
        with self.transaction():
            store, old = self._need(bead_id)
            if old.get("status") == "tombstone":
                raise LedgerError(f"bead {bead_id} is deleted (tombstone)")
            rec = dict(old)
            ts = now()
            rec["status"] = "closed"
            rec["closed_at"] = ts
            if reason:
                rec["close_reason"] = reason
            rec["updated_at"] = ts
            store.put(rec)
            return self._wrap(rec)

    def reopen(self, bead_id: str):
        with self.transaction():
            store, old = self._need(bead_id)
            rec = dict(old)
            rec["status"] = "open"
            rec.pop("closed_at", None)
            rec.pop("close_reason", None)
            rec["updated_at"] = now()
            store.put(rec)
            return self._wrap(rec)

    def delete(self, bead_id: str) -> None:
        """Hard delete (burn) from either store; edges pointing at it go too."""
        self.delete_many([bead_id])

    def delete_many(self, bead_ids) -> int:
        """Hard-deletes many beads (either store) in one transaction; returns how many.

        Every id must exist (NotFound names the first missing one, and nothing is deleted).
        Edges from surviving beads to deleted ones are removed in one pass over the loaded
        stores; the blocked index is updated per change, highest id first (children lists
        shrink from their tail), or, when the changes are a quarter of it or more, dropped and
        rebuilt on next use; so burning a 65,535-step wisp is linear. Numbered children
        (`parent.N`) are remembered in the child counters so N is never given out again.
        """
        wanted = list(dict.fromkeys(bead_ids))
        if not wanted:
            return 0
        with self.transaction():
            main = self._main
            wisps = self._wstore() if (self._wisps.loaded or self.wisps_path.exists()) else None
            where = []
            for rid in wanted:
                if rid in main.records:
                    where.append((rid, main))
                elif wisps is not None and rid in wisps.records:
                    where.append((rid, wisps))
                else:
                    raise self._missing(rid)
            gone = set(wanted)
            fixes = []                      # (store, record without its edges to deleted beads)
            for s in (self._main, self._wisps) if self._wisps.loaded else (self._main,):
                for rid, rec in s.records.items():
                    deps = rec.get("dependencies")
                    if deps and rid not in gone and any(d.get("depends_on_id") in gone for d in deps):
                        new = dict(rec)
                        new["dependencies"] = [d for d in deps if d.get("depends_on_id") not in gone]
                        fixes.append((s, new))
            index = self._index
            changes = len(gone) + len(fixes)
            if index is not None and changes >= BULK_REINDEX and 4 * changes >= len(index.records):
                self._index = None          # cheaper to rebuild (on next use) than to update per id
            where.sort(key=lambda pair: pair[0], reverse=True)
            lazy_roots = [rid for rid, store in where if store is wisps and is_lazy(store.records.get(rid))]
            for rid, store in where:
                store.remove(rid)
            for rid in lazy_roots:          # a big wisp's steps live in their own folder
                remove_dir(self.beads_dir, rid)
                self._lazy.pop(rid, None)
            for store, new in fixes:
                store.put(new)
            remember_deleted(self.beads_dir, gone)
            return len(gone)

    def claim(self, bead_id: str, assignee: str):
        """Takes an open bead for `assignee` (in_progress); ClaimConflict if someone has it."""
        with self.transaction():
            store, old = self._need(bead_id)
            status = old.get("status") or "open"
            holder = old.get("assignee")
            if status != "open" or (holder and holder != assignee):
                who = f", assigned to {holder}" if holder else ""
                raise ClaimConflict(f"cannot claim {bead_id}: it is {status}{who}")
            rec = dict(old)
            rec["assignee"] = assignee
            rec["status"] = "in_progress"
            rec["updated_at"] = now()
            store.put(rec)
            return self._wrap(rec)

    def claim_next(self, assignee: str, **filters):
        """Atomically claims the first ready bead nobody else holds; None when there is none."""
        with self.transaction():
            for rec in self.raw_ready(**filters):
                holder = rec.get("assignee")
                if (rec.get("status") or "open") == "open" and (not holder or holder == assignee):
                    return self.claim(rec["id"], assignee)
            return None

    # ---- dependencies, labels, comments ---------------------------------------------------
    def add_dependency(self, issue_id: str, depends_on_id: str, dep_type: str = "blocks", actor=None,
                       metadata=None):
        """`issue_id` depends on `depends_on_id`. Blocking edges that close a cycle raise CycleError."""
        validate.check_dep_type(dep_type)
        if issue_id == depends_on_id:
            raise ValidationError(f"{issue_id} cannot depend on itself")
        with self.transaction():
            store, old = self._need(issue_id)
            if not depends_on_id.startswith("external:"):
                self._need(depends_on_id)
            deps = list(old.get("dependencies") or ())
            if any(d.get("depends_on_id") == depends_on_id and d.get("type") == dep_type for d in deps):
                return self._wrap(old)
            if dep_type in graph.BLOCKING_TYPES:
                cycle = graph.find_cycle(self._all_records(True), issue_id, depends_on_id)
                if cycle:
                    raise CycleError(cycle, dep_type)
            deps.append(self._edge(issue_id, depends_on_id, dep_type, now(), self._actor(actor), metadata))
            rec = dict(old)
            rec["dependencies"] = deps
            rec["updated_at"] = now()
            store.put(rec)
            return self._wrap(rec)

    def remove_dependency(self, issue_id: str, depends_on_id: str, dep_type=None):
        with self.transaction():
            store, old = self._need(issue_id)
            deps = list(old.get("dependencies") or ())
            keep = [d for d in deps if not (d.get("depends_on_id") == depends_on_id
                                            and (dep_type is None or d.get("type") == dep_type))]
            if len(keep) == len(deps):
                kind = f"{dep_type} " if dep_type else ""
                raise NotFound(f"{issue_id} has no {kind}dependency on {depends_on_id}")
            rec = dict(old)
            if keep:
                rec["dependencies"] = keep
            else:
                rec.pop("dependencies", None)
            rec["updated_at"] = now()
            store.put(rec)
            return self._wrap(rec)

    def add_label(self, bead_id: str, label: str):
        if not isinstance(label, str) or not label.strip() or any(c.isspace() for c in label):
            raise ValidationError(f"bad label {label!r}: labels are non-empty and have no spaces")
        with self.transaction():
            store, old = self._need(bead_id)
            labels = set(old.get("labels") or ())
            if label in labels:
                return self._wrap(old)
            rec = dict(old)
            rec["labels"] = sorted(labels | {label})
            rec["updated_at"] = now()
            store.put(rec)
            return self._wrap(rec)

    def remove_label(self, bead_id: str, label: str):
        with self.transaction():
            store, old = self._need(bead_id)
            labels = list(old.get("labels") or ())
            if label not in labels:
                raise NotFound(f"{bead_id} has no label {label!r}")
            rec = dict(old)
            labels.remove(label)
            if labels:
                rec["labels"] = labels
            else:
                rec.pop("labels", None)
            rec["updated_at"] = now()
            store.put(rec)
            return self._wrap(rec)

    def add_comment(self, bead_id: str, text: str, author=None):
        if not isinstance(text, str) or not text.strip():
            raise ValidationError("comment text is empty")
        with self.transaction():
            store, old = self._need(bead_id)
            top = 0
            for rec in store.records.values():
                for c in rec.get("comments") or ():
                    cid = c.get("id")
                    if isinstance(cid, int) and cid > top:
                        top = cid
                    elif isinstance(cid, str) and cid.isdigit():
                        top = max(top, int(cid))
            ts = now()
            comment = {"id": top + 1, "issue_id": bead_id, "author": self._actor(author), "text": text,
                       "created_at": ts}
            rec = dict(old)
            rec["comments"] = list(old.get("comments") or ()) + [comment]
            rec["updated_at"] = ts
            store.put(rec)
            return self._wrap_comment(comment)

    def _wrap_comment(self, comment: dict) -> Comment | dict:
        from gastown_tui.beads.models import Comment  # deferred: pydantic (see ledger._issue_cls)

        return Comment.model_validate(comment)


def block_end_needs_newline(path) -> bool:
    """True when the file is non-empty and does not end with a newline."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        if fh.tell() == 0:
            return False
        fh.seek(-1, 2)
        return fh.read(1) != b"\n"
