"""The ledger: `.beads/issues.jsonl` (git-tracked) plus `.beads/wisps.jsonl` (git-ignored wisps).

Records are kept as plain dicts (with their original lines, see jsonl.py); pydantic
`Issue` models are built on demand. Every mutating call is a transaction: take the
lock, reload if another process changed the files, apply, write atomically.
"""
from __future__ import annotations

import builtins
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Self

from gastown_tui.atomicfile import write_atomic
from gastown_tui.beads import graph, ids
from gastown_tui.beads.counters import IGNORE_LINES as COUNTER_IGNORES
from gastown_tui.beads.config import CONFIG_NAME, config_text, custom_list, read_config
from gastown_tui.beads.errors import ClaimConflict, CycleError, LedgerError, NotFound, ValidationError, not_found
from gastown_tui.beads.gcpause import gc_paused
from gastown_tui.beads.interop import refuse_table_dump
from gastown_tui.beads.jsonl import JsonlFile, LoadReport
from gastown_tui.beads.mutations import MutationsMixin
from gastown_tui.beads.wispsteps import STEPS_DIR, WispSteps, is_lazy
from gastown_tui.filelock import FileLock

if TYPE_CHECKING:
    from gastown_tui.beads.models import Issue

ISSUES_NAME = "issues.jsonl"
LEGACY_NAME = "beads.jsonl"          # the file's name from 2025-10-22 to 2025-11-26
WISPS_NAME = "wisps.jsonl"
LOCK_NAME = ".gastown.lock"
GITIGNORE = (
    "# gastown: wisps (ephemeral beads) and lock/temp files never enter git\n"
    f"{WISPS_NAME}\n.{WISPS_NAME}.*.tmp\n.{ISSUES_NAME}.*.tmp\n{LOCK_NAME}\nquarantine.jsonl\n{STEPS_DIR}/\n"
    + "".join(line + "\n" for line in COUNTER_IGNORES)
)

__all__ = ["Ledger", "find_beads_dir", "ClaimConflict", "CycleError", "LedgerError"]


def find_beads_dir(start: Path) -> Path:
    """The nearest `.beads` directory holding `issues.jsonl`, from `start` upward."""
    start = Path(start).resolve()
    for d in (start, *start.parents):
        candidate = d / ".beads"
        if (candidate / ISSUES_NAME).is_file() or (candidate / LEGACY_NAME).is_file():
            return candidate
    raise NotFound(f"no .beads/{ISSUES_NAME} in {start} or any parent (run `gastown bd init`, or pass --db PATH)")


def _issue_cls() -> type[Issue]:
    # Deferred on purpose: the models load pydantic (~60 ms); the ledger keeps plain
    # dicts and `gastown bd list` never builds a model (tests/town/test_import_hygiene.py).
    from gastown_tui.beads.models import Issue

    return Issue


class Ledger(MutationsMixin):
    """One Beads ledger. Not thread-safe; safe across processes."""

    def __init__(self, issues_path: Path, *, strict: bool = True):
        self.path = Path(issues_path)
        self.beads_dir = self.path.parent
        self.wisps_path = self.beads_dir / WISPS_NAME
        self.strict = strict
        self._main = JsonlFile(self.path)
        self._wisps = JsonlFile(self.wisps_path)
        self._lock = FileLock(self.beads_dir / LOCK_NAME)
        self._tx = 0
        self._index: graph.BlockedIndex | None = None   # BlockedIndex over main (+ wisps once loaded), kept current
        self._index_has_wisps = False
        self._lists: dict = {}              # raw_list's answers; forgotten on every change (the town server asks again)
        self._lazy: dict[str, WispSteps] = {}
        self._tx_seq = 0                        # outer transactions begun (a lazy wisp's log is read once per)
        self._main.listeners.append(self._on_main_change)
        self._wisps.listeners.append(self._on_wisp_change)
        self.config = read_config(self.beads_dir)
        self._main.load(strict=strict)
        refuse_table_dump(self.path, self._main.records.values())
        self.prefix = self.config.get("issue-prefix") or self._infer_prefix()

    # ---- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, *, strict: bool = True) -> "Ledger":
        """`path` is a `.beads` directory or a JSONL file."""
        path = Path(path)
        if path.is_dir():
            if not (path / ISSUES_NAME).exists() and (path / LEGACY_NAME).exists():
                path = path / LEGACY_NAME
            else:
                path = path / ISSUES_NAME
            if not path.exists():
                raise NotFound(f"{path.parent} has no {ISSUES_NAME} (run `gastown bd init`)")
        elif not path.exists():
            raise NotFound(f"no ledger at {path}")
        return cls(path, strict=strict)

    @classmethod
    def init(cls, beads_dir: Path, prefix: str) -> "Ledger":
        """Creates `.beads/` with an empty ledger, config and a .gitignore for wisps; idempotent."""
        beads_dir = Path(beads_dir)
        if not prefix or not ids.is_valid_id(f"{prefix}-x") or prefix.endswith("-"):
            raise ValidationError(f"bad prefix {prefix!r}: use letters, digits, '-' and '_' (e.g. bd, gt, hq)")
        beads_dir.mkdir(parents=True, exist_ok=True)
        issues = beads_dir / ISSUES_NAME
        with FileLock(beads_dir / LOCK_NAME):
            if not issues.exists():
                write_atomic(issues, "", sync_dir=True)
            config = beads_dir / CONFIG_NAME
            existing = read_config(beads_dir).get("issue-prefix")
            if existing and existing != prefix:
                raise LedgerError(f"{config} already sets issue-prefix {existing!r}, not {prefix!r}")
            if not config.exists():
                config.write_text(config_text(prefix), encoding="utf-8")
            ignore = beads_dir / ".gitignore"
            if not ignore.exists():
                ignore.write_text(GITIGNORE, encoding="utf-8")
            elif WISPS_NAME not in ignore.read_text(encoding="utf-8").split():
                with open(ignore, "a", encoding="utf-8") as fh:
                    fh.write("\n" + GITIGNORE)
        return cls(issues)

    def _infer_prefix(self) -> str:
        counts = Counter(ids.prefix_of(rid) for rid in list(self._main.records)[:2000] if "-" in rid)
        for p in list(counts):
            for infix in ("-mol", "-wisp", "-eph", "-cv"):
                if p.endswith(infix):
                    counts[p[: -len(infix)]] += counts.pop(p)
                    break
        return counts.most_common(1)[0][0] if counts else "bd"

    @property
    def report(self) -> LoadReport:
        """What loading `issues.jsonl` found (duplicates resolved, header lines, bad lines)."""
        return self._main.report

    # ---- freshness and transactions ------------------------------------------------------
    def _wstore(self) -> JsonlFile:
        if not self._wisps.loaded:
            self._wisps.load(strict=self.strict)
        return self._wisps

    def _refresh(self) -> None:
        if self._tx:
            return
        if self._main.changed_on_disk():
            self._main.load(strict=self.strict)
        if self._wisps.loaded and self._wisps.changed_on_disk():
            self._wisps.load(strict=self.strict)

    def reload(self) -> None:
        self._main.load(strict=self.strict)
        if self._wisps.loaded:
            self._wisps.load(strict=self.strict)

    @contextmanager
    def transaction(self) -> Iterator[Self]:
        """Holds the lock; reloads if the files changed; writes once, atomically, at the end."""
        if self._tx:
            self._tx += 1
            try:
                yield self
            finally:
                self._tx -= 1
            return
        self._lock.acquire()
        try:
            if self._main.changed_on_disk():
                self._main.load(strict=self.strict)
            if self._wisps.loaded and self._wisps.changed_on_disk():
                self._wisps.load(strict=self.strict)
            self._tx = 1
            self._tx_seq += 1
            try:
                yield self
            except BaseException:
                self._tx = 0
                if self._main.has_changes or (self._wisps.loaded and self._wisps.has_changes):
                    self.reload()        # throw away the half-applied changes
                raise
            self._tx = 0
            self._main.save()
            if self._wisps.loaded:
                self._wisps.save()
        finally:
            self._tx = 0
            self._lock.release()

    def save(self) -> None:
        """Rewrites issues.jsonl now, under the lock, even if nothing changed (a no-op round trip)."""
        with self.transaction():
            self._main.save(force=True)

    # ---- raw records (dicts, as stored) --------------------------------------------------
    def _locate(self, bead_id: str) -> tuple[JsonlFile | None, dict | None]:
        rec = self._main.records.get(bead_id)
        if rec is not None:
            return self._main, rec
        if self._wisps.loaded or self.wisps_path.exists():
            records = self._wstore().records
            rec = records.get(bead_id)
            if rec is not None:
                return self._wisps, rec
            dot = bead_id.find(".")
            if dot > 0 and is_lazy(records.get(bead_id[:dot])):
                rec = self.lazy_step(bead_id)
                if rec is not None:
                    return self._wisps, rec
        return None, None

    # ---- lazy wisps (steps made on demand; see wispsteps.py) ------------------------------
    def wisp_steps(self, root_id: str) -> WispSteps | None:
        """The steps of a lazy wisp (None if `root_id` is not one), its close log read up to now."""
        root = self._wstore().records.get(root_id) if (self._wisps.loaded or self.wisps_path.exists()) else None
        if not is_lazy(root):
            self._lazy.pop(root_id, None)
            return None
        steps = self._lazy.get(root_id)
        if steps is None or steps.created != root.get("created_at"):
            steps = self._lazy[root_id] = WispSteps(self.beads_dir, root)
            steps.created = root.get("created_at")
            steps.seen_tx = None
        if not self._tx or steps.seen_tx != self._tx_seq:    # in a transaction: read the log once
            steps.refresh()
            steps.seen_tx = self._tx_seq if self._tx else None
        return steps

    def lazy_step(self, bead_id: str) -> dict | None:
        """A lazy wisp's step as a record (a stored record under its id wins), or None."""
        rec = self._wstore().records.get(bead_id)
        if rec is not None:
            return rec
        steps = self.wisp_steps(bead_id[: bead_id.find(".")])
        if steps is None:
            return None
        index = steps.index_of(bead_id)
        return None if index is None else steps.record(index)

    def _known_ids(self) -> Iterator[str]:
        yield from self._main.records
        if self._wisps.loaded or self.wisps_path.exists():
            yield from self._wstore().records

    def _missing(self, bead_id: str) -> NotFound:
        return not_found("bead", bead_id, self._known_ids())

    def raw(self, bead_id: str) -> dict:
        """The stored record of a bead (do not modify it); NotFound names the nearest ids."""
        self._refresh()
        _, rec = self._locate(bead_id)
        if rec is None:
            raise self._missing(bead_id)
        return rec

    def raw_find(self, bead_id: str) -> dict | None:
        self._refresh()
        return self._locate(bead_id)[1]

    def _all_records(self, wisps: bool = True) -> dict[str, dict]:
        if wisps and (self._wisps.loaded or self.wisps_path.exists()):
            w = self._wstore().records
            if w:
                merged = dict(w)
                merged.update(self._main.records)     # an id in both stores: issues.jsonl wins, as in get()
                return merged
        return self._main.records

    def raw_list(self, status: str | Iterable[str] | None = None, issue_type: str | None = None,
                 assignee: str | None = None, label: str | None = None, include_closed: bool = False,
                 wisps: bool = True) -> list[dict]:
        """Records in id order. Closed only with include_closed or status; tombstones only by status."""
        self._refresh()
        with_wisps = wisps and (self._wisps.loaded or self.wisps_path.exists())
        key = (status if isinstance(status, (str, type(None))) else tuple(status), issue_type, assignee, label,
               include_closed, with_wisps)
        found = self._lists.get(key)
        if found is None:
            if len(self._lists) > 64:
                self._lists.clear()
            found = self._lists[key] = self._raw_list(status, issue_type, assignee, label, include_closed, wisps)
        return list(found)

    def _raw_list(self, status: str | Iterable[str] | None, issue_type: str | None, assignee: str | None,
                  label: str | None, include_closed: bool, wisps: bool) -> list[dict]:
        out = []
        statuses = None if status is None else ({status} if isinstance(status, str) else set(status))
        for rid, rec in self._all_records(wisps).items():
            st = rec.get("status") or "open"
            if statuses is not None:
                if st not in statuses:
                    continue
            elif st == "tombstone" or (st == "closed" and not include_closed):
                continue
            if issue_type is not None and (rec.get("issue_type") or "task") != issue_type:
                continue
            if assignee is not None and rec.get("assignee") != assignee:
                continue
            if label is not None and label not in (rec.get("labels") or ()):
                continue
            out.append(rec)
        out.sort(key=lambda r: r["id"])
        return out

    # ---- the blocked index ---------------------------------------------------------------
    def _on_main_change(self, rid: str | None, rec: dict | None) -> None:
        self._lists.clear()
        if self._index is None:
            return
        if rid is None:
            self._index = None
        elif rec is None and self._index_has_wisps and rid in self._wisps.records:
            self._index.apply(rid, self._wisps.records[rid])
        else:
            self._index.apply(rid, rec)

    def _on_wisp_change(self, rid: str | None, rec: dict | None) -> None:
        self._lists.clear()
        if self._index is None or not self._index_has_wisps:
            return
        if rid is None:
            self._index = None
        elif rid not in self._main.records:           # issues.jsonl's version wins
            self._index.apply(rid, rec)

    def blocked_index(self, wisps: bool = False) -> graph.BlockedIndex:
        """The blocked-work index (built once, then updated with every change)."""
        self._refresh()
        if wisps and self.wisps_path.exists():
            self._wstore()
        if self._index is None or (self._wisps.loaded and not self._index_has_wisps):
            if self._wisps.loaded and self._wisps.records:
                records = dict(self._wisps.records)
                records.update(self._main.records)
            else:
                records = dict(self._main.records)
            with gc_paused():
                self._index = graph.BlockedIndex(records)
            self._index_has_wisps = self._wisps.loaded
        return self._index

    def raw_ready(self, assignee: str | None = None, unassigned: bool = False,
                  label: str | Iterable[str] | None = None, parent: str | None = None, limit: int | None = None,
                  sort: str = "hybrid", include_ephemeral: bool = False, wisps: bool | None = None) -> list[dict]:
        """`wisps`: whether to load the wisp store; None = when it can matter (include_ephemeral or
        parent). wisps=False with parent= serves a persistent molecule without reading wisps.jsonl."""
        self._refresh()
        if wisps is None:
            wisps = include_ephemeral or parent is not None
        if parent is not None and wisps is not False and self.wisp_steps(parent) is not None:
            return self._lazy_ready(parent, limit)
        index = self.blocked_index(wisps=wisps)
        if parent is not None and parent not in index.records:
            raise self._missing(parent)
        with gc_paused():
            return graph.ready(index.records, index, assignee=assignee, unassigned=unassigned, label=label,
                               parent=parent, limit=limit, sort=sort, include_ephemeral=include_ephemeral)

    def _lazy_ready(self, root_id: str, limit: int | None = None) -> list[dict]:
        """A lazy wisp's ready steps in formula order: open, and every step it needs closed.

        Scans from the first open step; a long chain is scanned to its end (seconds for a million)."""
        steps = self.wisp_steps(root_id)
        if steps is None:
            raise LedgerError(f"{root_id} is not a lazy wisp")
        stored = self._wstore().records
        out = []
        state: dict[str, bool] = {}

        def closed(step_id: str) -> bool:
            if step_id in state:
                return state[step_id]
            rec = stored.get(step_id) or self.lazy_step(step_id)
            return rec is not None and rec.get("status") == "closed"

        for rec in steps.records_from(steps.log.first_open):
            rec = stored.get(rec["id"], rec)
            status = rec.get("status") or "open"
            state[rec["id"]] = status == "closed"
            if status not in ("open", "in_progress"):
                continue
            if all(closed(d["depends_on_id"]) for d in rec.get("dependencies") or ()
                   if d.get("type") in graph.BLOCKING_TYPES and d.get("depends_on_id") != root_id):
                out.append(rec)
                if limit is not None and len(out) >= limit:
                    break
            if len(state) > 4096:
                state.clear()
        return out

    # ---- models --------------------------------------------------------------------------
    def get(self, bead_id: str) -> Issue:
        """The bead as an Issue; NotFound names the nearest ids. Looks in wisps too."""
        return _issue_cls().from_record(self.raw(bead_id))

    def find(self, bead_id: str) -> Issue | None:
        rec = self.raw_find(bead_id)
        return None if rec is None else _issue_cls().from_record(rec)

    def all(self, include_tombstones: bool = False) -> list[Issue]:
        self._refresh()
        issue = _issue_cls()
        recs = self._all_records(True)
        return [issue.from_record(recs[k]) for k in sorted(recs)
                if include_tombstones or recs[k].get("status") != "tombstone"]

    def list(self, status: str | Iterable[str] | None = None, issue_type: str | None = None,
             assignee: str | None = None, label: str | None = None, include_closed: bool = False) -> list[Issue]:
        issue = _issue_cls()
        return [issue.from_record(r) for r in self.raw_list(status, issue_type, assignee, label, include_closed)]

    def ready(self, assignee: str | None = None, unassigned: bool = False,
              label: str | Iterable[str] | None = None, parent: str | None = None, limit: int | None = None,
              sort: str = "hybrid", include_ephemeral: bool = False) -> builtins.list[Issue]:
        issue = _issue_cls()
        return [issue.from_record(r) for r in self.raw_ready(assignee, unassigned, label, parent, limit, sort,
                                                             include_ephemeral)]

    def is_blocked(self, bead_id: str) -> bool:
        self.raw(bead_id)
        store, _ = self._locate(bead_id)
        index = self.blocked_index(wisps=store is self._wisps)
        if bead_id not in index.records:        # a lazy wisp's step
            return bool(self.blockers(bead_id))
        return index.is_blocked(bead_id)

    def blockers(self, bead_id: str) -> builtins.list[str]:
        rec = self.raw(bead_id)
        store, _ = self._locate(bead_id)
        index = self.blocked_index(wisps=store is self._wisps)
        if bead_id not in index.records and store is self._wisps:     # a lazy wisp's step
            out = []
            for d in rec.get("dependencies") or ():
                if d.get("type") in graph.BLOCKING_TYPES:
                    target = self.raw_find(d.get("depends_on_id"))
                    if target is not None and target.get("status") != "closed":
                        out.append(target["id"])
            return out
        return list(self.blocked_index(wisps=store is self._wisps).blockers.get(bead_id, ()))

    def children(self, bead_id: str) -> builtins.list[Issue]:
        """Direct children (parent-child edge, or dotted id) in id order, wisps included."""
        self.raw(bead_id)
        index = self.blocked_index(wisps=True)
        issue = _issue_cls()
        return [issue.from_record(index.records[k]) for k in index.children.get(bead_id, ())]

    def custom_statuses(self) -> builtins.list[str]:
        return custom_list(self.config, "status.custom")

    def custom_types(self) -> builtins.list[str]:
        return custom_list(self.config, "types.custom")


class RawLedger(Ledger):
    """A Ledger whose mutations return the stored dicts instead of Issue models.

    The `gastown bd` command line uses it so that a command never imports pydantic.
    """

    def _wrap(self, rec: dict) -> dict:
        return rec

    def _wrap_comment(self, comment: dict) -> dict:
        return comment
