"""What every patrol is: a name, a timer, the changes it cares about, and a run that decides and acts.

A patrol's `run(ctx)` is ordinary blocking code (it reads the ledger, runs git,
types nudges through the session manager); the runner calls it in a worker
thread, never two runs of the same patrol at once. It returns a `Report`: what
it saw (a small JSON-able dict) and what it did (a list of `Decision`s). An
empty `did` means the patrol was idle this time, so its timer backs off.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gastown_tui.town.write_lock import TownWriteLock, process_write_lock


@dataclass(frozen=True)
class Timer:
    """Exponential backoff: `base` seconds after activity, times `factor` per idle run, capped at `max`."""

    base: float = 30.0
    max: float = 300.0
    factor: float = 2.0

    def next(self, current: float | None, active: bool) -> float:
        if active or current is None:
            return self.base
        return min(self.max, current * self.factor)


@dataclass(frozen=True)
class Change:
    """Something the runner saw change in the town.

    kind: `ledger` (a .beads folder), `events` (new lines in .events.jsonl; `events` holds them),
    `runtime` (something under .runtime/, e.g. the nudge queue or a handoff marker),
    `config` (mayor/ or settings/), `session` (a session event from the session manager; `events`
    holds one dict) or `manual` (someone called wake()).
    """

    kind: str
    path: Path | None = None
    events: tuple[dict, ...] = ()


@dataclass
class Decision:
    """One thing a patrol decided (and, unless `done` is False, did)."""

    kind: str  # e.g. nudge, restart, start, sling, merge, fix_needed, escalate, delete_branch, heartbeat
    target: str = ""  # an agent address, bead id, branch or rig
    reason: str = ""  # human text: why
    bead: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    done: bool = True  # False: decided but could not act (the detail says why)

    def to_dict(self) -> dict:
        d: dict[str, object] = {"kind": self.kind, "target": self.target, "reason": self.reason}
        if self.bead:
            d["bead"] = self.bead
        if self.detail:
            d["detail"] = self.detail
        if not self.done:
            d["done"] = False
        return d


@dataclass
class Report:
    """What one run saw and did."""

    saw: dict[str, Any] = field(default_factory=dict)
    did: list[Decision] = field(default_factory=list)
    next_in: float | None = None  # "run me again in this many seconds" (e.g. when a quiet agent turns stalled)

    @property
    def active(self) -> bool:
        return bool(self.did)


@dataclass(frozen=True)
class RunContext:
    """Handed to `Patrol.run`: the wall-clock time of the run, why it runs, the changes that woke
    it, and the town's write lock (held by the runner around the run unless the patrol
    `locks_itself`; see town/write_lock.py)."""

    now: float
    reason: str  # "timer", "change", "manual", "start"
    changes: tuple[Change, ...] = ()
    write_lock: TownWriteLock = field(default_factory=process_write_lock, compare=False, repr=False)


class Patrol:
    """Base class. Subclasses set `name`, `role`, `timer` and implement `run`; override `concerns`."""

    name: str = "patrol"
    role: str = "patrol"  # deacon, witness, refinery, boot, dogs, gupp
    rig: str | None = None
    timer: Timer = Timer()
    # False: the runner holds the town's write lock around the whole run. True: the patrol
    # takes `ctx.write_lock` itself around its writes (the Refinery, whose gate runs for minutes).
    locks_itself: bool = False

    def concerns(self, change: Change) -> bool:
        """Whether this change should wake the patrol now (default: any ledger change)."""
        return change.kind in ("ledger", "manual")

    def run(self, ctx: RunContext) -> Report:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
