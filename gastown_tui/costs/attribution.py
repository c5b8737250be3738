"""Whose work a model call was: the agent (its home), the bead on its hook at that moment, that bead's
convoy, the rig and the role — from the town's event log (`hook`/`unhook`, `convoy_created`/`convoy_added`),
read incrementally like the usage records."""
from __future__ import annotations

import bisect
import os
from pathlib import Path

import orjson

from gastown_tui.timestamps import to_unix


def address_of(agent_key: str) -> str:
    """`rig--polecats--nux` -> `rig/polecats/nux`; `mayor` -> `mayor/`."""
    parts = agent_key.split("--")
    return "/".join(parts) if len(parts) > 1 else f"{agent_key}/"


def role_rig(address: str) -> tuple[str, str | None]:
    parts = address.strip("/").split("/")
    if len(parts) == 1:
        return parts[0], None                     # mayor, deacon, boot: town-level
    if len(parts) == 2:
        return parts[1], parts[0]                 # rig/witness, rig/refinery
    return {"polecats": "polecat"}.get(parts[1], parts[1]), parts[0]


class Attribution:
    def __init__(self, town_root: Path):
        self.path = Path(town_root) / ".events.jsonl"
        self._offset = 0
        self._inode = -1
        self.hooks: dict[str, list[tuple[float, str | None]]] = {}   # address -> [(since, bead or None)]
        self.convoy_of: dict[str, str] = {}
        self._times: dict[str, list[float]] = {}
        self._version = 0       # counts the changes to hooks and convoys (other events change nothing here)

    def offset_key(self) -> tuple[int, int]:
        """Changes whenever refresh learnt something new about hooks or convoys."""
        return self._inode, self._version

    def refresh(self) -> None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return
        if info.st_ino != self._inode or info.st_size < self._offset:
            self._inode, self._offset, self.hooks, self.convoy_of = info.st_ino, 0, {}, {}
            self._version += 1
        if info.st_size == self._offset:
            return
        with open(self.path, "rb") as fh:
            fh.seek(self._offset)
            data = fh.read(info.st_size - self._offset)
        end = data.rfind(b"\n")
        if end < 0:
            return
        self._offset += end + 1
        for raw in data[: end + 1].split(b"\n"):
            if not (b'"hook"' in raw or b'"unhook"' in raw or b'"convoy_' in raw):
                continue
            try:
                e = orjson.loads(raw)
                kind, p = e["type"], e.get("payload") or {}
                ts = to_unix(e["ts"])
            except (ValueError, KeyError, TypeError):
                continue                          # the event log's own reader reports bad lines
            if kind == "hook" and p.get("agent"):
                self.hooks.setdefault(p["agent"], []).append((ts, p.get("bead")))
                self._version += 1
            elif kind == "unhook" and p.get("agent"):
                spans = self.hooks.setdefault(p["agent"], [])
                if spans and spans[-1][1] == p.get("bead"):
                    spans.append((ts, None))
                    self._version += 1
            elif kind in ("convoy_created", "convoy_added") and p.get("convoy"):
                for bead in p.get("beads") or ():
                    self.convoy_of.setdefault(bead, p["convoy"])
                self._version += 1

    def bead_at(self, address: str, ts: float) -> str | None:
        spans = self.hooks.get(address)
        if not spans:
            return None
        times = self._times.get(address)
        if times is None or len(times) != len(spans):
            times = self._times[address] = [t for t, _ in spans]
        i = bisect.bisect_right(times, ts) - 1
        return spans[i][1] if i >= 0 else None
