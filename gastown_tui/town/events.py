"""The town's event log `.events.jsonl`: one typed JSON line per action.

Line format (Gas Town's): `{"ts", "source": "gt", "type", "actor", "payload": {...}, "visibility"}`.
Appends take an exclusive lock and write the whole line in one call, so
concurrent writers never interleave.
"""
from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from gastown_tui.timestamps import to_unix
from gastown_tui.errors import UserError
from gastown_tui.town.settings import parse_duration

EVENT_TYPES = (
    "town_installed", "rig_added", "rig_removed", "spawn", "polecat_removed", "crew_added", "crew_removed",
    "sling", "hook", "unhook", "done", "merge_requested", "mr_state", "mail", "mail_read", "mail_archived",
    "nudge", "handoff", "convoy_created", "convoy_added", "convoy_landed", "session_start", "session_end",
    "polecat_reaped", "session_replaced", "mr_approved", "patrol_run", "patrol_failed", "dog_run",
    "ralph_attempt", "ralph_exhausted", "ralph_raised", "budget_warning", "budget_tripped", "budget_raised",
    "budget_reset", "sling_refused", "budget_stopped",
    "node_health", "placement_failed",  # nodes: the heartbeat's up/down/ready changes; a node that failed a sling
    "node_gone", "node_work_collected",  # nodes: a node past its grace (its polecats given up), its work fetched on return
    "node_gone_note", "node_adopt_skipped",  # nodes: a detail of a give-up; a remote session a restarted town did not take
    "node_clone_kept", "node_clone_removed",  # nodes: a reaped polecat's clone kept (unfetched commit) or removed
)


@dataclass
class Event:
    ts: str
    type: str
    actor: str
    payload: dict = field(default_factory=dict)
    source: str = "gt"
    visibility: str = "feed"

    @property
    def time(self) -> float:
        return to_unix(self.ts)

    def to_dict(self) -> dict:
        return {"ts": self.ts, "source": self.source, "type": self.type, "actor": self.actor,
                "payload": self.payload, "visibility": self.visibility}


def now_ts() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def append_event(path: Path, type: str, actor: str, /, visibility: str = "feed", **payload: object) -> Event:
    """Appends one event line to PATH (the town's .events.jsonl) and returns it."""
    event = Event(ts=now_ts(), type=type, actor=actor or "unknown", payload=payload, visibility=visibility)
    line = (json.dumps(event.to_dict(), ensure_ascii=False, separators=(",", ":"), default=str) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line)
    finally:
        os.close(fd)
    return event


def read_events(path: Path, since: float | None = None, types: set[str] | None = None,
                limit: int | None = None) -> list[Event]:
    """Events in file order; SINCE is a unix time; LIMIT keeps the last N. Bad lines raise UserError naming the line."""
    try:
        data = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    events = []
    for lineno, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            event = Event(ts=raw["ts"], type=raw["type"], actor=raw.get("actor", ""), payload=raw.get("payload") or {},
                          source=raw.get("source", "gt"), visibility=raw.get("visibility", "feed"))
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{path}:{lineno}: bad event line: {exc}") from None
        if types and event.type not in types:
            continue
        if since is not None and event.time < since:
            continue
        events.append(event)
    if limit is not None:
        events = events[-limit:]
    return events


def since_arg(text: str) -> float:
    """`--since 1h` (a duration back from now) or an ISO time -> unix time."""
    try:
        return time.time() - parse_duration(text, where="--since")
    except UserError:
        try:
            return to_unix(text)
        except ValueError:
            raise UserError(f"--since: not a duration or time: {text!r} (use e.g. 10m, 1h, 2026-01-01T00:00:00Z)") from None


def format_event(event: Event) -> str:
    """One human line: `HH:MM:SS type actor key=value ...`."""
    when = event.ts[11:19]
    details = " ".join(f"{k}={v}" for k, v in event.payload.items() if v not in (None, "", []))
    return f"{when} {event.type:<16} {event.actor:<28} {details}".rstrip()
