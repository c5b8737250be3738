"""Wisps whose steps are not stored one bead per line.

A big wisp (a 20-disc Hanoi has 1,048,575 steps) keeps only its root in
`wisps.jsonl`. The root's `wisp_steps` field names the kind of source that can
make any step's bead on demand (today only "formula": meow re-derives a step
from the formula and vars snapshotted with the wisp), and everything else lives
in `.beads/wisp-steps/<root>/`:

    meta.json     what the source needs (count, formula, vars, timestamps)
    closes.log    one line per close, or per run of consecutive closes:
                  `FIRST LAST EPOCH_MS [REASON as JSON]` (0-based step indexes)

A step's status: a record stored in `wisps.jsonl` under its id wins (a step
someone updated, claimed or labelled is stored there like any bead); else
closed if the log says so; else open.

Closing appends to the log; the appends are written and fdatasync'ed at least
every 100 ms (a background flusher), at the next close once 100 ms have passed,
and at exit. A crash loses at most the last unsynced closes. A torn last line
(a write cut short) is ignored with a note and cut off before the next append;
everything before it is kept.
"""
from __future__ import annotations

import atexit
import importlib
import json
import os
import shutil
import sys
import threading
import time
import weakref
from bisect import bisect_right
from pathlib import Path
from typing import Iterator, Protocol, TypeGuard

from gastown_tui.beads.errors import LedgerError

STEPS_DIR = "wisp-steps"
META = "meta.json"
LOG = "closes.log"
FIELD = "wisp_steps"          # on the root record: the source kind ("formula")
SYNC_EVERY = 0.1              # seconds: closes are written and synced at least this often
SOURCES = {"formula": "gastown_tui.meow.lazywisp:open_source"}   # kind -> "module:function"


class StepSource(Protocol):
    """What makes a lazy wisp's step beads (status left out: the close log supplies it)."""

    count: int

    def record(self, index: int) -> dict: ...

    def records_from(self, index: int) -> Iterator[dict]: ...

    def index_of(self, step_id: str) -> int | None: ...


def steps_dir(beads_dir: Path, root_id: str) -> Path:
    return Path(beads_dir) / STEPS_DIR / root_id


def is_lazy(root: dict | None) -> TypeGuard[dict]:
    return root is not None and bool(root.get(FIELD))


def prepare_dir(beads_dir: Path, root_id: str) -> Path:
    """Makes `.beads/wisp-steps/<root>/` (the folder ignores itself in git)."""
    top = Path(beads_dir) / STEPS_DIR
    top.mkdir(exist_ok=True)
    ignore = top / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# gastown: the steps of big wisps (never in git)\n*\n", encoding="utf-8")
    folder = top / root_id
    folder.mkdir(exist_ok=True)
    return folder


def remove_dir(beads_dir: Path, root_id: str) -> None:
    folder = steps_dir(beads_dir, root_id)
    log = _OPEN_LOGS.pop(str(folder / LOG), None)
    if log is not None:
        log.discard()
    shutil.rmtree(folder, ignore_errors=True)


# ---- the close log ---------------------------------------------------------------------------
class CloseLog:
    """The closed steps of one lazy wisp: a bitmap in memory, an append-only log on disk."""

    def __init__(self, path: Path, count: int):
        self.path = Path(path)
        self.count = count
        self.bits = bytearray((count + 7) // 8)
        self.done = 0
        self.first_open = 0
        self.runs: list[list] = []        # [first, last, ms, reason] in log order, neighbours merged
        self._starts: list[int] | None = None
        self.notes: list[str] = []
        self.offset = 0                   # bytes of the file already read
        self._torn = False
        self.pending: list[tuple[int, int, int, str | None]] = []     # (first, last, ms, reason) not yet written
        self.last_sync = time.monotonic()
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._gone = False
        self.refresh()

    # reading
    def refresh(self) -> None:
        """Reads lines other processes (or our own flushes) appended since the last read."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size == self.offset:
            return
        if size < self.offset:            # cut short (a torn line removed): read it all again
            self.offset = 0
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            data = fh.read()
        end = data.rfind(b"\n") + 1
        torn = data[end:]
        self._torn = bool(torn)
        if torn:
            note = (f"{self.path}: ignored a torn last line ({len(torn)} bytes with no newline,"
                    " from an interrupted write); everything before it is kept")
            if note not in self.notes:
                self.notes.append(note)
                print(f"gastown: {note}", file=sys.stderr)
        line_no = 0
        for raw in data[:end].split(b"\n")[:-1]:
            line_no += 1
            try:
                parts = raw.decode("utf-8").split(" ", 3)
                first, last, ms = int(parts[0]), int(parts[1]), int(parts[2])
                reason = json.loads(parts[3]) if len(parts) > 3 else None
                if not (0 <= first <= last < self.count):
                    raise ValueError("index out of range")
            except (ValueError, IndexError, UnicodeDecodeError) as exc:
                note = f"{self.path}: line {line_no} after byte {self.offset}: skipped, not a close ({exc})"
                self.notes.append(note)
                print(f"gastown: {note}", file=sys.stderr)
                continue
            self._apply(first, last, ms, reason)
        self.offset += end

    def _apply(self, first: int, last: int, ms: int, reason: str | None) -> None:
        bits = self.bits
        for i in range(first, last + 1):
            byte, bit = i >> 3, 1 << (i & 7)
            if not bits[byte] & bit:
                bits[byte] |= bit
                self.done += 1
        runs = self.runs
        if runs and runs[-1][1] + 1 == first and runs[-1][3] == reason:
            runs[-1][1] = last
            runs[-1][2] = ms
        else:
            runs.append([first, last, ms, reason])
            self._starts = None
        self._advance()

    def _advance(self) -> None:
        i, bits, n = self.first_open, self.bits, self.count
        while i < n:
            if bits[i >> 3] == 0xFF and (i & 7) == 0:
                i += 8
                continue
            if not bits[i >> 3] & (1 << (i & 7)):
                break
            i += 1
        self.first_open = min(i, n)

    def is_closed(self, index: int) -> bool:
        return bool(self.bits[index >> 3] & (1 << (index & 7)))

    def closed_at(self, index: int) -> tuple[int, str | None] | None:
        """(epoch ms, reason) of the close of step `index` (the last close of its run)."""
        if not self.is_closed(index):
            return None
        for first, last, ms, reason in reversed(self.runs[-4:]):     # the usual case: a recent close
            if first <= index <= last:
                return ms, reason
        ordered = sorted(self.runs)
        starts = [r[0] for r in ordered]
        k = bisect_right(starts, index) - 1
        while k >= 0:
            first, last, ms, reason = ordered[k]
            if first <= index <= last:
                return ms, reason
            k -= 1
        return None

    # writing
    def close(self, index: int, reason: str | None = None) -> bool:
        """Records step `index` closed (False if it already was); durable within SYNC_EVERY."""
        if not 0 <= index < self.count:
            raise LedgerError(f"step index {index} is outside this wisp's {self.count} steps")
        if self.is_closed(index):
            return False
        reason = None if reason == "done" else reason
        ms = int(time.time() * 1000)
        with self._lock:
            self._apply(index, index, ms, reason)
            pending = self.pending
            if pending and pending[-1][1] + 1 == index and pending[-1][3] == reason:
                pending[-1] = (pending[-1][0], index, ms, reason)
            else:
                pending.append((index, index, ms, reason))
            if time.monotonic() - self.last_sync >= SYNC_EVERY:
                self._flush_locked()
        _watch(self)
        return True

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        self.last_sync = time.monotonic()
        if not self.pending or self._gone:
            self.pending.clear()
            return
        data = "".join(f"{a} {b} {ms}" + (f" {json.dumps(r, ensure_ascii=False)}" if r is not None else "") + "\n"
                       for a, b, ms, r in self.pending).encode("utf-8")
        fd = self._open_fd()
        os.write(fd, data)
        os.fdatasync(fd)
        self.pending.clear()

    def _open_fd(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            size = os.fstat(self._fd).st_size
            if size:
                # a torn last line (a crash mid-write) is cut off before anything is appended after it
                with open(self.path, "rb") as fh:
                    fh.seek(max(0, size - 4096))
                    tail = fh.read()
                if not tail.endswith(b"\n"):
                    keep = size - len(tail) + tail.rfind(b"\n") + 1 if b"\n" in tail else self._last_newline(size)
                    os.truncate(self.path, keep)
                    self.offset = min(self.offset, keep)
        return self._fd

    def _last_newline(self, size: int) -> int:
        with open(self.path, "rb") as fh:
            data = fh.read(size)
        return data.rfind(b"\n") + 1

    def discard(self) -> None:
        """The wisp was burned: drop what is pending and close the file."""
        with self._lock:
            self._gone = True
            self.pending.clear()
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


# ---- one flusher thread per process ------------------------------------------------------------
_OPEN_LOGS: dict[str, CloseLog] = {}
_WATCHED: "weakref.WeakSet[CloseLog]" = weakref.WeakSet()
_flusher: threading.Thread | None = None
_flusher_lock = threading.Lock()


def _watch(log: CloseLog) -> None:
    global _flusher
    _WATCHED.add(log)
    if _flusher is None:
        with _flusher_lock:
            if _flusher is None:
                _flusher = threading.Thread(target=_flush_loop, name="gastown-wisp-steps-sync", daemon=True)
                _flusher.start()


def _flush_loop() -> None:
    while True:
        time.sleep(SYNC_EVERY / 2)
        for log in list(_WATCHED):
            if log.pending and time.monotonic() - log.last_sync >= SYNC_EVERY / 2:
                try:
                    log.flush()
                except OSError as exc:      # a burned wisp's folder, a full disk: say so, keep going
                    print(f"gastown: could not sync {log.path}: {exc}", file=sys.stderr)


@atexit.register
def flush_all() -> None:
    """Writes every pending close now (at exit, and before anything that must see them on disk)."""
    for log in list(_WATCHED):
        try:
            log.flush()
        except OSError:
            pass


# ---- a lazy wisp's steps -----------------------------------------------------------------------
class WispSteps:
    """The steps of one lazy wisp: made by its source, closed by its log."""

    def __init__(self, beads_dir: Path, root: dict):
        self.root_id = root["id"]
        self.dir = steps_dir(beads_dir, self.root_id)
        try:
            self.meta = json.loads((self.dir / META).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LedgerError(f"wisp {self.root_id}: cannot read {self.dir / META}: {exc}") from None
        self.count = int(self.meta["count"])
        key = str(self.dir / LOG)
        log = _OPEN_LOGS.get(key)
        if log is None or log.count != self.count or log._gone:
            log = _OPEN_LOGS[key] = CloseLog(self.dir / LOG, self.count)
        self.log = log
        self.prefix = self.root_id + "."
        self._source: StepSource | None = None
        self.kind: str | None = root.get(FIELD)
        self.created: str | None = root.get("created_at")   # the root's, when these steps were made
        self.seen_tx: int | None = None     # the ledger's transaction that last read the log (see Ledger.wisp_steps)
        self._made: dict[int, tuple[bool, dict]] = {}     # recently made records (index -> closed?, record)

    @property
    def source(self) -> StepSource:
        if self._source is None:
            spec = SOURCES.get(self.kind) if self.kind is not None else None
            if spec is None:
                raise LedgerError(f"wisp {self.root_id}: unknown step source {self.kind!r}")
            module, _, name = spec.partition(":")
            self._source = getattr(importlib.import_module(module), name)(self.dir, self.root_id, self.meta)
        return self._source

    def refresh(self) -> None:
        self.log.refresh()

    def index_of(self, step_id: str) -> int | None:
        if not step_id.startswith(self.prefix):
            return None
        return self.source.index_of(step_id)

    def with_status(self, rec: dict, index: int) -> dict:
        closed = self.log.closed_at(index)
        if closed is not None:
            ms, reason = closed
            ts = _iso(ms)
            rec["status"] = "closed"
            rec["closed_at"] = ts
            rec["updated_at"] = ts
            rec["close_reason"] = reason or "done"
        return rec

    def record(self, index: int) -> dict:
        """The step's record (do not modify it: it may be handed out again)."""
        closed = self.log.is_closed(index)
        hit = self._made.get(index)
        if hit is not None and hit[0] == closed:
            return hit[1]
        rec = self.with_status(self.source.record(index), index)
        if len(self._made) > 64:
            self._made.clear()
        self._made[index] = (closed, rec)
        return rec

    def records_from(self, index: int) -> Iterator[dict]:
        for i, rec in enumerate(self.source.records_from(index), index):
            yield self.with_status(rec, i)


def _iso(ms: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="microseconds").replace(
        "+00:00", "Z")
