"""The nudge queue: text waiting to be typed into an agent's terminal.

Files: `<town>/.runtime/nudge_queue/<agent_key>/<ts>-<rand>.json`, each
`{sender, message, priority: normal|urgent, timestamp, expires_at}`. Names
sort oldest first. The session manager drains them (see contracts: sessions);
`peek`/`ack` are here for anything else that needs to read the queue.
"""
from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from gastown_tui.town.addresses import agent_key
from gastown_tui.town.events import now_ts
from gastown_tui.atomicfile import write_atomic


@dataclass
class Nudge:
    path: Path
    sender: str
    message: str
    priority: str
    timestamp: str
    expires_at: float | None = None

    @property
    def urgent(self) -> bool:
        return self.priority == "urgent"


def enqueue(queue_root: Path, address: str, message: str, sender: str = "overseer", urgent: bool = False,
            ttl: float | None = None) -> Path:
    """Writes one nudge for ADDRESS under QUEUE_ROOT (`.runtime/nudge_queue`); returns its file."""
    folder = Path(queue_root) / agent_key(address)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{secrets.token_hex(3)}.json"
    data: dict[str, object] = {"sender": sender, "message": message, "priority": "urgent" if urgent else "normal", "timestamp": now_ts()}
    if ttl:
        data["expires_at"] = time.time() + ttl
    path = folder / name
    write_atomic(path, json.dumps(data, ensure_ascii=False) + "\n")
    return path


def peek(queue_root: Path, address: str) -> list[Nudge]:
    """Queued nudges for ADDRESS: urgent first, then oldest first. Unreadable files are skipped (left in place)."""
    folder = Path(queue_root) / agent_key(address)
    if not folder.is_dir():
        return []
    nudges = []
    for path in sorted(folder.glob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        nudges.append(Nudge(path, raw.get("sender", ""), raw.get("message", ""), raw.get("priority", "normal"),
                            raw.get("timestamp", ""), raw.get("expires_at")))
    return sorted(nudges, key=lambda n: (not n.urgent, n.path.name))


def ack(nudge: Nudge) -> None:
    """Removes a delivered nudge."""
    try:
        os.unlink(nudge.path)
    except FileNotFoundError:
        pass
