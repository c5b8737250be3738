"""Moving a project between bd 1.x and gastown: `bd export` / `bd import` shapes, and bd backups.

bd 1.x keeps its issues in Dolt; JSONL is its interchange form. `bd export` writes one
`{"_type":"issue", <issue fields>, "dependency_count", "dependent_count", "comment_count",
"parent"?}` line per issue and, on request, `{"_type":"memory","key","value"}` lines.
`bd backup` writes something else: a dump of each table (`.beads/backup/issues.jsonl` with every
column, nulls, integer booleans, `metadata` as a string, `content_hash`; the dependencies,
labels and comments in sibling files). A dump's rows are not beads on their own, so a ledger
never opens one (`refuse_table_dump`), and `import` reads the whole set with its side tables
joined, or refuses it — never half of it.

Import is all or nothing: every line is read and checked first; then the beads are written in
one transaction (one atomic file replacement). Memories live in `.beads/memories.jsonl`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from gastown_tui.atomicfile import write_atomic
from gastown_tui.beads import ids
from gastown_tui.beads.codec import encode, json_error
from gastown_tui.beads.errors import LedgerError
from gastown_tui.timestamps import format_ns, to_ns_or

if TYPE_CHECKING:
    from gastown_tui.beads.ledger import Ledger

MEMORIES_NAME = "memories.jsonl"
COMPUTED = ("_type", "dependency_count", "dependent_count", "comment_count", "parent")
BOOLEANS = frozenset({"ephemeral", "pinned", "is_template", "no_history", "crystallizes", "wisp"})
SIDE_TABLES = ("dependencies.jsonl", "labels.jsonl", "comments.jsonl")


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)        # the ledger's copy is newer: kept
    tombstones: int = 0                                   # deleted rows: not imported
    memories: int = 0
    source: str = "bd export"

    def summary(self) -> str:
        parts = [f"{len(self.created)} created", f"{len(self.updated)} updated"]
        if self.unchanged:
            parts.append(f"{len(self.unchanged)} unchanged")
        if self.stale:
            parts.append(f"{len(self.stale)} kept (the ledger's copy is newer)")
        if self.tombstones:
            parts.append(f"{self.tombstones} deleted rows skipped")
        if self.memories:
            parts.append(f"{self.memories} memories")
        return f"imported from {self.source}: " + ", ".join(parts)


# ---- export ------------------------------------------------------------------------------------
def export_lines(ledger: Ledger, *, include_memories: bool = False, include_wisps: bool = False,
                 exclude_types: Iterable[str] = ()) -> Iterator[str]:
    """bd 1.x `export` lines for every live bead (tombstones are not exported), in id order."""
    exclude = set(exclude_types)
    records = ledger._all_records(wisps=include_wisps)
    live = {rid: rec for rid, rec in records.items()
            if rec.get("status") != "tombstone" and rec.get("issue_type") not in exclude
            and (include_wisps or not rec.get("ephemeral"))}
    dependents: dict[str | None, int] = {}     # a malformed edge with no target counts under None
    for rec in live.values():
        for dep in rec.get("dependencies") or ():
            if isinstance(dep, dict) and dep.get("type") != "parent-child":
                target = dep.get("depends_on_id")
                dependents[target] = dependents.get(target, 0) + 1
    for rid in sorted(live):
        rec = live[rid]
        deps = [d for d in rec.get("dependencies") or () if isinstance(d, dict)]
        parent = next((d.get("depends_on_id") for d in deps if d.get("type") == "parent-child"), None)
        if any(k in rec for k in COMPUTED):      # a Dolt-era export's counts, stored: recomputed here
            rec = {k: v for k, v in rec.items() if k not in COMPUTED}
        body = encode(rec)
        extra = {"dependency_count": sum(1 for d in deps if d.get("type") != "parent-child"),
                 "dependent_count": dependents.get(rid, 0),
                 "comment_count": len(rec.get("comments") or ())}
        if parent:
            extra["parent"] = parent
        tail = json.dumps(extra, separators=(",", ":"), ensure_ascii=False)[1:-1]
        yield '{"_type":"issue",' + body[1:-1] + "," + tail + "}"
    if include_memories:
        for key, value in sorted(read_memories(ledger.beads_dir).items()):
            yield json.dumps({"_type": "memory", "key": key, "value": value}, separators=(",", ":"),
                             ensure_ascii=False)


def write_export(ledger: Ledger, path: Path, *, include_memories: bool = False, include_wisps: bool = False,
                 exclude_types: Iterable[str] = ()) -> int:
    """Writes the export to `path` atomically (streamed); returns how many lines were written."""
    count = 0

    def lines() -> Iterator[str]:
        nonlocal count
        for line in export_lines(ledger, include_memories=include_memories, include_wisps=include_wisps,
                                 exclude_types=exclude_types):
            count += 1
            yield line + "\n"

    write_atomic(Path(path), lines())
    return count


# ---- memories ----------------------------------------------------------------------------------
def read_memories(beads_dir: Path) -> dict[str, str]:
    path = Path(beads_dir) / MEMORIES_NAME
    out: dict[str, str] = {}
    if not path.exists():
        return out
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as exc:
            raise LedgerError(f"{path}:{n}: not JSON ({exc})") from None
        if isinstance(rec, dict) and isinstance(rec.get("key"), str):
            out[rec["key"]] = rec.get("value", "")
    return out


def _write_memories(beads_dir: Path, memories: dict[str, str]) -> None:
    text = "".join(json.dumps({"key": k, "value": v}, separators=(",", ":"), ensure_ascii=False) + "\n"
                   for k, v in sorted(memories.items()))
    write_atomic(Path(beads_dir) / MEMORIES_NAME, text)


# ---- reading an import file --------------------------------------------------------------------
def is_table_dump_row(rec: dict) -> bool:
    """A `bd backup` issues-table row: every column (keys in sorted order), `content_hash`, and no
    inline dependencies, labels or comments."""
    keys = list(rec)
    return ("content_hash" in rec and "dependencies" not in rec and keys == sorted(keys)
            and len(keys) >= 12)


def refuse_table_dump(path: Path, records: Iterable[dict]) -> None:
    """Raises one clear LedgerError when `records` (the first few of a file) are a backup dump."""
    sample = [r for _, r in zip(range(5), records)]
    if sample and all(is_table_dump_row(r) for r in sample):
        raise LedgerError(
            f"{path} is a bd backup table dump (rows without their dependencies, labels and comments, "
            f"which live in sibling files): not a ledger; bring it in with `gastown bd import {path}`"
        )


def _read_jsonl(path: Path) -> list[tuple[int, dict]]:
    """Every line of a JSONL file, or LedgerError naming the first bad line (nothing half-read)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_no = data.count(b"\n", 0, exc.start) + 1
        raise LedgerError(f"{path}:{line_no}: not valid UTF-8") from None
    out = []
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as exc:
            raise LedgerError(f"{path}:{n}: not JSON ({json_error(exc)})") from None
        if not isinstance(rec, dict):
            raise LedgerError(f"{path}:{n}: not a JSON object")
        out.append((n, rec))
    return out


def _normalise(rec: dict, where: str, dump: bool) -> dict:
    """A bead record from an export line or a dump row: computed fields dropped, integer booleans
    made booleans, `wisp` read as `ephemeral`. A dump row also loses its empty columns (nulls,
    empty strings, zeros), which a bead record never writes."""
    out: dict = {}
    for key, value in rec.items():
        if key in COMPUTED or (dump and key == "content_hash"):
            continue
        if dump and (value is None or value == ""):
            continue
        if key in BOOLEANS and not isinstance(value, bool):
            if value in (0, 1):
                value = bool(value)
            else:
                raise LedgerError(f"{where}: {key} must be a boolean or 0/1, not {value!r}")
            if dump and not value:
                continue
        if key == "wisp":
            key = "ephemeral"
        out[key] = value
    if dump:
        ns = out.pop("timeout_ns", None)        # the dump's column name for the gate timeout
        if ns:
            out["timeout"] = ns
        for key in ("compaction_level", "original_size", "estimated_minutes"):
            if out.get(key) == 0:
                out.pop(key)
        for key in ("metadata", "waiters"):
            if out.get(key) in ("{}", "[]"):
                out.pop(key)
    rid = out.get("id")
    if not isinstance(rid, str) or not ids.is_valid_id(rid):
        raise LedgerError(f"{where}: bad or missing id {rid!r}")
    if not isinstance(out.get("title"), str):
        raise LedgerError(f"{where}: bead {rid} has no title")
    return out


def read_import(path: Path) -> tuple[list[dict], dict[str, str], str]:
    """(bead records, memories, what the file is) from a bd export, a ledger file or a backup set."""
    path = Path(path)
    rows = _read_jsonl(path)
    beads: list[dict] = []
    memories: dict[str, str] = {}
    issue_rows = []
    for n, rec in rows:
        rtype = rec.get("_type")
        if rtype == "memory":
            if not isinstance(rec.get("key"), str):
                raise LedgerError(f"{path}:{n}: memory record without a string key")
            memories[rec["key"]] = rec.get("value", "")
            continue
        if rtype not in (None, "issue"):
            continue                            # other record kinds bd may add later
        if rec.get("id") is None and any(k.startswith("_") for k in rec):
            continue                            # a _schema header
        issue_rows.append((n, rec))
    dump = bool(issue_rows) and all(is_table_dump_row(r) for _, r in issue_rows[:5])
    source = "bd export"
    side: dict[str, list[tuple[int, dict]]] = {}
    if dump:
        folder = path.parent
        present = [name for name in SIDE_TABLES if (folder / name).exists()]
        if "dependencies.jsonl" not in present:
            raise LedgerError(
                f"{path} is a bd backup table dump but {folder / 'dependencies.jsonl'} is missing: "
                f"importing it would lose every dependency; copy the whole backup folder and retry"
            )
        for name in present:
            side[name] = _read_jsonl(folder / name)
        source = f"bd backup ({', '.join(['issues.jsonl', *present])})"
    seen: set[str] = set()
    for n, rec in issue_rows:
        out = _normalise(rec, f"{path}:{n}", dump)
        if out["id"] in seen:
            raise LedgerError(f"{path}:{n}: bead {out['id']} appears twice")
        seen.add(out["id"])
        beads.append(out)
    if dump:
        _join_side_tables(path.parent, beads, side)
    elif not rows:
        source = "an empty file"
    return beads, memories, source


def _join_side_tables(folder: Path, beads: list[dict], side: dict) -> None:
    by_id = {b["id"]: b for b in beads}

    def owner(name: str, n: int, rec: dict) -> dict:
        rid = rec.get("issue_id")
        bead = by_id.get(rid)
        if bead is None:
            raise LedgerError(f"{folder / name}:{n}: row for unknown bead {rid!r}")
        return bead

    for n, rec in side.get("dependencies.jsonl", ()):
        bead = owner("dependencies.jsonl", n, rec)
        dep = {k: v for k, v in rec.items() if v not in (None, "")}
        if not dep.get("depends_on_id") or not dep.get("type"):
            raise LedgerError(f"{folder / 'dependencies.jsonl'}:{n}: needs depends_on_id and type")
        bead.setdefault("dependencies", []).append(dep)
    for n, rec in side.get("labels.jsonl", ()):
        bead = owner("labels.jsonl", n, rec)
        label = rec.get("label")
        if not isinstance(label, str) or not label:
            raise LedgerError(f"{folder / 'labels.jsonl'}:{n}: needs a label")
        bead.setdefault("labels", []).append(label)
    for n, rec in side.get("comments.jsonl", ()):
        bead = owner("comments.jsonl", n, rec)
        bead.setdefault("comments", []).append({k: v for k, v in rec.items() if v is not None})
    for bead in beads:
        if "labels" in bead:
            bead["labels"] = sorted(set(bead["labels"]))
        if "comments" in bead:
            bead["comments"].sort(key=lambda c: (to_ns_or(c.get("created_at")), str(c.get("id"))))


# ---- import ------------------------------------------------------------------------------------
def import_file(ledger: Ledger, path: Path) -> ImportReport:
    """Upserts every bead of `path` into the ledger, all or nothing (bd's rules: a row older than
    the ledger's copy is kept out, deleted rows are skipped, memories merge by key)."""
    beads, memories, source = read_import(path)
    report = ImportReport(source=source)
    with ledger.transaction():
        main = ledger._main
        for rec in beads:
            if rec.get("status") == "tombstone":
                report.tombstones += 1
                continue
            rid = rec["id"]
            store = ledger._wstore() if rec.get("ephemeral") else main
            old = main.records.get(rid) or (ledger._wstore().records.get(rid)
                                            if ledger.wisps_path.exists() else None)
            if old is not None:
                if to_ns_or(old.get("updated_at")) > to_ns_or(rec.get("updated_at")):
                    report.stale.append(rid)
                    continue
                if old == rec:
                    report.unchanged.append(rid)
                    continue
                report.updated.append(rid)
            else:
                report.created.append(rid)
            rec.setdefault("created_at", rec.get("updated_at") or format_ns(0))
            rec.setdefault("updated_at", rec["created_at"])
            store.put(rec)
    if memories:                                # after the beads are safely on disk
        merged = read_memories(ledger.beads_dir)
        merged.update(memories)
        _write_memories(ledger.beads_dir, merged)
        report.memories = len(memories)
    return report
