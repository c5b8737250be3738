"""Reading and appending the town's `.events.jsonl` from the patrols.

Line format (reference/gastown.md §2.1): `{ts, source, type, actor, payload, visibility}`.
Appends take an exclusive lock on the file and write one whole line, so lines
from the CLI, the sessions and the patrols never interleave. `EventTail` reads
only what was appended since it last looked (the runner uses it to see which
events woke it).
"""
from __future__ import annotations

import fcntl
import json
import os
from datetime import datetime, timezone
from pathlib import Path

PATROL_EVENT_TYPES = ("patrol_run", "patrol_failed", "patrol_decision", "dog_run")


def events_path(town: Path) -> Path:
    return Path(town) / ".events.jsonl"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def append_event(town: Path, type: str, actor: str, payload: dict, visibility: str = "feed") -> dict:
    """Appends one event line; returns the record written."""
    record = {"ts": now_iso(), "source": "gt", "type": type, "actor": actor, "payload": payload, "visibility": visibility}
    line = (json.dumps(record, separators=(",", ":"), default=str) + "\n").encode()
    path = events_path(town)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            os.write(fd, line)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    return record


class EventTail:
    """Yields the events appended to `.events.jsonl` since the previous call (starts at the current end)."""

    def __init__(self, town: Path, from_start: bool = False):
        self.path = events_path(town)
        self.offset = 0 if from_start else (self.path.stat().st_size if self.path.exists() else 0)
        self._partial = b""

    def read_new(self) -> list[dict]:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return []
        if size < self.offset:  # truncated or replaced: start over
            self.offset, self._partial = 0, b""
        if size == self.offset:
            return []
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read(size - self.offset)
        self.offset = size
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()  # an unfinished last line waits for the rest
        out = []
        for raw in lines:
            if not raw.strip():
                continue
            try:
                out.append(json.loads(raw))
            except ValueError:
                continue  # a damaged line is the CLI's problem to report; the patrols skip it
        return out


def read_events(town: Path, types: tuple[str, ...] | None = None, limit: int | None = None) -> list[dict]:
    """All events (optionally only some types; optionally the last `limit`), oldest first."""
    tail = EventTail(town, from_start=True)
    events = tail.read_new()
    if types:
        events = [e for e in events if e.get("type") in types]
    return events[-limit:] if limit else events
