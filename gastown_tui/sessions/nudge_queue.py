"""The nudge queue on disk: `<town>/.runtime/nudge_queue/<agent_key>/<ts>-<rand>.json`.

`gastown nudge` writes one JSON file per nudge: `{sender, message, priority:
normal|urgent, timestamp}`. The session manager takes them oldest first (by file
name), renames the one it is typing to `*.json.delivering`, deletes it once the
agent took it (and logs it in `delivered.jsonl`), or moves it to
`undeliverable/` with the reason. A `.delivering` file left by a crash goes back
in the queue on the next start. Nothing is ever silently dropped.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from gastown_tui.atomicfile import write_atomic


@dataclass(frozen=True)
class QueuedNudge:
    path: Path  # the claimed file (*.json.delivering)
    sender: str
    message: str
    urgent: bool
    timestamp: str
    expires_at: float | None = None  # epoch seconds (`gastown nudge` sets a TTL)

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now > self.expires_at

    @property
    def text(self) -> str:
        """What is typed into the agent (Gas Town's prefix)."""
        who = f"[URGENT from {self.sender}]" if self.urgent else f"[from {self.sender}]"
        return f"{who} {self.message}"


class BadNudge(ValueError):
    pass


def queue_dir(town: Path, key: str) -> Path:
    return Path(town) / ".runtime" / "nudge_queue" / key


def pending(folder: Path) -> list[Path]:
    """Queued nudge files, oldest first."""
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".json") and not n.startswith("."))
    except FileNotFoundError:
        return []
    return [folder / n for n in names]


def recover(folder: Path) -> int:
    """Puts nudges a crashed run left half-delivered back in the queue; returns how many."""
    n = 0
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return 0
    for name in names:
        if name.endswith(".json.delivering"):
            os.replace(folder / name, folder / name[: -len(".delivering")])
            n += 1
    return n


def _parse(path: Path, data: bytes) -> tuple[str, str, bool, str, float | None]:
    try:
        obj = json.loads(data)
    except json.JSONDecodeError as exc:
        raise BadNudge(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    except ValueError as exc:   # json's plain ValueError: a number too long to convert
        raise BadNudge(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise BadNudge(f"{path}: expected a JSON object, got {type(obj).__name__}")
    message = obj.get("message")
    if not isinstance(message, str) or not message.strip():
        raise BadNudge(f"{path}: 'message' is missing or empty")
    priority = obj.get("priority", "normal")
    if priority not in ("normal", "urgent"):
        raise BadNudge(f"{path}: 'priority' must be normal or urgent, got {priority!r}")
    expires = obj.get("expires_at")
    if expires is not None and (isinstance(expires, bool) or not isinstance(expires, (int, float))):
        raise BadNudge(f"{path}: 'expires_at' must be epoch seconds, got {expires!r}")
    return (str(obj.get("sender") or "unknown"), message, priority == "urgent", str(obj.get("timestamp") or ""),
            None if expires is None else float(expires))


def claim(path: Path) -> QueuedNudge | None:
    """Takes one queued file (rename to .delivering). None if another process took it first.
    Raises BadNudge (after moving the file to undeliverable/) when it cannot be read."""
    claimed = path.with_name(path.name + ".delivering")
    try:
        os.replace(path, claimed)
    except FileNotFoundError:
        return None
    data = claimed.read_bytes()
    try:
        sender, message, urgent, ts, expires = _parse(path, data)
    except BadNudge as exc:
        give_up(claimed, str(exc))
        raise
    return QueuedNudge(claimed, sender, message, urgent, ts, expires)


def peek_urgent(path: Path) -> bool:
    try:
        return json.loads(path.read_bytes()).get("priority") == "urgent"
    except (OSError, ValueError, AttributeError):
        return False


def release(nudge: QueuedNudge) -> None:
    """Puts a claimed nudge back in the queue (the session went away before typing it)."""
    os.replace(nudge.path, nudge.path.with_name(nudge.path.name[: -len(".delivering")]))


def done(nudge: QueuedNudge, session_id: str, enters: int) -> None:
    """The agent took it: log it and delete the file."""
    record = {"file": nudge.path.name[: -len(".delivering")], "sender": nudge.sender, "message": nudge.message,
              "urgent": nudge.urgent, "timestamp": nudge.timestamp, "session_id": session_id, "enters": enters,
              "delivered_at": time.time()}
    with open(nudge.path.parent / "delivered.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    nudge.path.unlink()


def give_up(claimed: Path, reason: str) -> Path:
    """Moves a claimed file to undeliverable/ with the reason beside it; returns the new path."""
    folder = claimed.parent / "undeliverable"
    folder.mkdir(exist_ok=True)
    name = claimed.name[: -len(".delivering")] if claimed.name.endswith(".delivering") else claimed.name
    target = folder / name
    os.replace(claimed, target)
    write_atomic(folder / (name + ".reason"), (reason + "\n").encode())
    return target
