"""One JSONL file of bead records, kept line for line.

Every line of the file is remembered. A record that was not changed is written
back as its original line, byte for byte, whatever its style; a changed record
is re-encoded canonically in place; new records are inserted in id order; lines
that are not beads (a `_schema` header, `_type: memory` records, blank lines) stay
where they were. When an id appears several times the version with the latest
`updated_at` wins (a tombstone beats any other state); the others are reported.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from gastown_tui.atomicfile import write_atomic
from gastown_tui.beads.codec import decode, decode_joined, encode, json_error
from gastown_tui.beads.errors import LedgerError, MalformedLedger
from gastown_tui.beads.gcpause import gc_paused
from gastown_tui.beads.style import CANONICAL, SAMPLE, FileStyle, detect
from gastown_tui.timestamps import to_ns_or



def signature(path: Path) -> tuple[int, int, int] | None:
    """What changes when another process replaces or edits the file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


@dataclass
class Duplicate:
    id: str
    lines: list[int]          # 1-based line numbers holding this id
    winner: int               # the line whose version was kept
    reason: str               # "latest updated_at" / "tombstone wins"


@dataclass
class LoadReport:
    path: Path
    lines: int = 0
    beads: int = 0
    header_lines: list[int] = field(default_factory=list)
    other_lines: list[int] = field(default_factory=list)   # _type records that are not issues
    blank_lines: list[int] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    bad_lines: list[tuple[int, str, str]] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.beads} beads on {self.lines} lines"]
        if self.duplicates:
            parts.append(f"{len(self.duplicates)} ids on several lines (resolved)")
        if self.header_lines:
            parts.append(f"{len(self.header_lines)} header line(s)")
        if self.other_lines:
            parts.append(f"{len(self.other_lines)} non-issue record(s)")
        if self.bad_lines:
            parts.append(f"{len(self.bad_lines)} malformed line(s)")
        return ", ".join(parts)


# From this many lines on, decode the file in one call: about as fast as line by line, but the
# records then share their key strings (a third less memory; it matters for huge wisp stores).
JOINED_MIN_LINES = 20_000


def _decode_all(lines: list[str]) -> list | None:
    """Every line's value from one decoder call (faster, and records share their key strings),
    or None when that cannot be trusted; the caller then decodes line by line.

    Trusted only if the joined array has exactly one value per non-blank line, every line is
    a `{...}` and every value is an object naming an id that its own line contains."""
    body = [raw for raw in lines if raw and not raw.isspace()]
    if not body:
        return None
    try:
        values = decode_joined(body)
    except ValueError:
        return None
    if len(values) != len(body):
        return None
    out: list = []
    it = iter(values)
    for raw in lines:
        if not raw or raw.isspace():
            out.append(None)
            continue
        rec = next(it)
        if raw[0] != "{" or raw[-1] != "}":
            stripped = raw.strip()
            if stripped[0] != "{" or stripped[-1] != "}":
                return None
        if type(rec) is not dict:
            return None
        rid = rec.get("id")
        if rid is not None and (type(rid) is not str or rid not in raw):
            return None
        out.append(rec)
    return out


def _beats(new: dict, old: dict) -> bool:
    """Does a later line `new` replace an earlier version `old` of the same id?"""
    new_tomb = new.get("status") == "tombstone"
    old_tomb = old.get("status") == "tombstone"
    if new_tomb != old_tomb:
        return new_tomb
    return to_ns_or(new.get("updated_at")) >= to_ns_or(old.get("updated_at"))


class JsonlFile:
    """The records of one file plus everything needed to write it back faithfully."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.records: dict[str, dict] = {}
        self.dirty: set[str] = set()           # changed or new since load
        self.deleted: set[str] = set()         # present in the file, removed since
        self.version = 0                       # bumped on every in-memory change
        self._entries: list[tuple[str, str | None, bool]] = []   # (raw line, id or None, is winner)
        self._file_ids: set[str] = set()
        self._trailing_newline = True
        self._lines_removed = False
        self.signature: tuple[int, int, int] | None = None
        self.report = LoadReport(self.path)
        self.style: FileStyle = CANONICAL      # how changed lines are written (the file's own style)
        self.loaded = False
        # Called as listener(id, record or None) after a change, listener(None, None) after a reload.
        self.listeners: list = []

    # ---- reading -------------------------------------------------------------------------
    def load(self, strict: bool = True) -> LoadReport:
        sig = signature(self.path)
        try:
            data = self.path.read_bytes() if sig is not None else b""
        except FileNotFoundError:
            data, sig = b"", None
        escaped = False
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if strict:
                line_no = data.count(b"\n", 0, exc.start) + 1
                start = data[data.rfind(b"\n", 0, exc.start) + 1:][:60]
                raise MalformedLedger(self.path, [(line_no, "not valid UTF-8",
                                                   start.decode("utf-8", "replace"))]) from None
            # Lenient (doctor): keep the bytes (surrogate-escaped) so quarantine can move them verbatim.
            text = data.decode("utf-8", "surrogateescape")
            escaped = True
        with gc_paused():
            self._parse(text, strict, escaped)
        self.signature = sig
        self.loaded = True
        return self.report

    def _parse(self, text: str, strict: bool, escaped: bool = False) -> None:
        report = LoadReport(self.path)
        records: dict[str, dict] = {}
        entries: list[tuple[str, str | None, bool]] = []
        where: dict[str, int] = {}            # id -> index in entries of the current winner
        dups: dict[str, list[int]] = {}
        reasons: dict[str, str] = {}
        lines = text.split("\n")
        self._trailing_newline = text.endswith("\n") or not text
        if lines and lines[-1] == "":
            lines.pop()
        report.lines = len(lines)
        parsed = None if escaped or len(lines) < JOINED_MIN_LINES else _decode_all(lines)
        for n, raw in enumerate(lines, 1):
            if not raw.strip():
                report.blank_lines.append(n)
                entries.append((raw, None, False))
                continue
            if escaped:
                try:
                    raw.encode("utf-8")
                except UnicodeEncodeError:
                    report.bad_lines.append((n, "not valid UTF-8", raw))
                    entries.append((raw, None, False))
                    continue
            try:
                rec = parsed[n - 1] if parsed is not None else decode(raw)
            except ValueError as exc:
                report.bad_lines.append((n, f"not JSON ({json_error(exc)})", raw))
                entries.append((raw, None, False))
                continue
            if not isinstance(rec, dict):
                report.bad_lines.append((n, "not a JSON object", raw))
                entries.append((raw, None, False))
                continue
            rid = rec.get("id")
            rtype = rec.get("_type")
            if rid is None and rtype is None and any(k.startswith("_") for k in rec):
                report.header_lines.append(n)
                entries.append((raw, None, False))
                continue
            if rtype is not None and rtype != "issue":
                report.other_lines.append(n)
                entries.append((raw, None, False))
                continue
            if not isinstance(rid, str) or not rid:
                report.bad_lines.append((n, "record has no string \"id\"", raw))
                entries.append((raw, None, False))
                continue
            idx = len(entries)
            prev = where.get(rid)
            if prev is None:
                records[rid] = rec
                where[rid] = idx
                entries.append((raw, rid, True))
                continue
            dups.setdefault(rid, [prev]).append(idx)
            if _beats(rec, records[rid]):
                old_raw = entries[prev][0]
                entries[prev] = (old_raw, rid, False)
                records[rid] = rec
                where[rid] = idx
                entries.append((raw, rid, True))
                reasons[rid] = "tombstone wins" if rec.get("status") == "tombstone" else "latest updated_at"
            else:
                entries.append((raw, rid, False))
                reasons.setdefault(rid, "latest updated_at")
        for rid, idxs in dups.items():
            report.duplicates.append(Duplicate(rid, [i + 1 for i in idxs], where[rid] + 1, reasons[rid]))
        report.beads = len(records)
        if report.bad_lines and strict:
            raise MalformedLedger(self.path, report.bad_lines)
        self.report = report
        self.records = records
        self._entries = entries
        self.style = detect([(raw, records[rid]) for raw, rid, winner in entries[:SAMPLE * 2]
                             if rid is not None and winner][:SAMPLE])
        self._file_ids = set(records)
        self.dirty = set()
        self.deleted = set()
        self._lines_removed = False
        self.version += 1
        self._notify(None, None)

    def _notify(self, rid: str | None, rec: dict | None) -> None:
        for listener in self.listeners:
            listener(rid, rec)

    def unload(self) -> None:
        """Forgets the records (the file changed behind our back); the next use reloads."""
        self.records = {}
        self.loaded = False
        self.signature = None
        self.version += 1
        self._notify(None, None)

    def changed_on_disk(self) -> bool:
        return signature(self.path) != self.signature

    # ---- changing ------------------------------------------------------------------------
    def put(self, record: dict) -> None:
        rid = record["id"]
        self.records[rid] = record
        self.dirty.add(rid)
        self.deleted.discard(rid)
        self.version += 1
        self._notify(rid, record)

    def remove(self, rid: str) -> None:
        if self.records.pop(rid, None) is not None:
            self.dirty.discard(rid)
            if rid in self._file_ids:
                self.deleted.add(rid)
            self.version += 1
            self._notify(rid, None)

    @property
    def has_changes(self) -> bool:
        return bool(self.dirty or self.deleted or self._lines_removed)

    def take_bad_lines(self) -> list[tuple[int, str, str]]:
        """Removes the malformed lines from what will be written and returns them (line, reason, text)."""
        bad = self.report.bad_lines
        if not bad:
            return []
        numbers = {n for n, _, _ in bad}
        self._entries = [e for i, e in enumerate(self._entries, 1) if i not in numbers]
        self.report.bad_lines = []
        self._lines_removed = True
        self.version += 1
        return bad

    # ---- writing -------------------------------------------------------------------------
    def _plan(self) -> Iterator[tuple[str, str | None, bool]]:
        """(line, id or None, is winner) for every line the file should now hold."""
        if self.report.bad_lines:
            raise LedgerError(
                f"{self.path}: refusing to write while {len(self.report.bad_lines)} malformed line(s) remain "
                f"(first at line {self.report.bad_lines[0][0]}); run `gastown bd doctor --quarantine`"
            )
        dirty, deleted, records = self.dirty, self.deleted, self.records
        new_ids = sorted(rid for rid in dirty if rid not in self._file_ids)
        ni, n_new = 0, len(new_ids)
        for entry in self._entries:
            raw, rid, winner = entry
            if rid is None:
                yield entry
                continue
            while ni < n_new and new_ids[ni] < rid:
                yield self._encode(records[new_ids[ni]]), new_ids[ni], True
                ni += 1
            if rid in deleted:
                continue
            if rid in dirty:
                if winner:
                    yield self._encode(records[rid], raw), rid, True
                continue
            yield entry
        while ni < n_new:
            yield self._encode(records[new_ids[ni]]), new_ids[ni], True
            ni += 1

    def _encode(self, record: dict, replaced: str | None = None) -> str:
        """A changed or new line, in this file's own style (canonical unless the file is not).

        A style that writes instants its own way (a fixed number of fraction digits, another zone)
        changes the record held here to match: what this process reads back is then what every other
        reader of the file gets (the town server keeps ledgers loaded; its answers must be the file's)."""
        style = self.style
        if style is CANONICAL:
            return encode(record)
        if style.time is not None:
            written = style._retime(record, style.time)
            if written is not record:
                record.update({k: v for k, v in written.items() if record.get(k) is not v})
        keys = None
        if replaced is not None:
            try:
                old = decode(replaced)
                keys = list(old) if isinstance(old, dict) else None
            except ValueError:
                keys = None
        return style.encode(record, keys)

    def lines(self) -> list[str]:
        """The file's lines (without newlines) as they should now be written."""
        return [e[0] for e in self._plan()]

    def render(self) -> str:
        return self._join([e[0] for e in self._plan()])

    def _join(self, lines: list[str]) -> str:
        out = "\n".join(lines)
        if out and (self._trailing_newline or self.has_changes):
            out += "\n"
        return out

    def save(self, force: bool = False) -> bool:
        """Writes the file atomically if anything changed (or `force`); True when it wrote."""
        if not force and not self.has_changes and (self.signature is not None or self.path.exists()):
            return False
        plan = list(self._plan())
        write_atomic(self.path, self._join([e[0] for e in plan]), sync_dir=True)
        self.signature = signature(self.path)
        # What was written is the new baseline.
        self._entries = plan
        self._file_ids = set(self.records)
        self.dirty = set()
        self.deleted = set()
        self._lines_removed = False
        self._trailing_newline = True
        return True

