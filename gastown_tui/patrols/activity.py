"""What a patrol has been doing, as the app shows it in the pane of a role that runs as a patrol.

The Deacon, Boot, the Witnesses and the Refineries are not agent processes here: they are patrols
inside the town server (deterministic code that costs nothing while idle). A person who opens the
Deacon's pane should see it working, not "no live session": its state, its last runs (what woke
it, what it saw, what it did), when it wakes next and on what backoff, and what it escalated.

`ActivityLog` subscribes to a `PatrolRunner` and keeps the last few runs of each patrol (bounded);
`activity(role, rig)` returns a plain `PatrolActivity` the UI renders and the server can send as JSON.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict, dataclass, field

RECENT = 12          # runs kept per patrol


@dataclass(frozen=True)
class RunLine:
    at: float                       # wall clock, when the run started
    reason: str                     # what woke it: timer, ledger, session, manual...
    seconds: float
    saw: str                        # a one-line summary of what it looked at
    did: tuple[str, ...]            # one line per decision ("spawn textkit/polecats/nux tk-1")
    error: str | None = None


@dataclass(frozen=True)
class PatrolActivity:
    name: str                       # the patrol's name: "deacon", "witness:textkit"
    role: str
    rig: str | None
    state: str                      # idle, running, failed, stopped, not running
    runs: int = 0
    failures: int = 0
    next_run_at: float | None = None
    interval: float | None = None   # the current backoff between timer runs, in seconds
    recent: tuple[RunLine, ...] = ()
    escalations: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "PatrolActivity":
        recent = tuple(RunLine(**{**r, "did": tuple(r.get("did") or ())}) for r in data.get("recent") or ())
        return cls(**{**data, "recent": recent, "escalations": tuple(data.get("escalations") or ())})


def patrol_name(role: str, rig: str | None) -> str:
    """The runner's name for a role's patrol: `deacon`, `boot`, `witness:<rig>`, `refinery:<rig>`."""
    return f"{role}:{rig}" if rig and role in ("witness", "refinery") else role


def _saw_summary(saw: dict) -> str:
    parts = []
    for key, value in (saw or {}).items():
        if isinstance(value, (list, tuple, set, dict)):
            value = len(value)
        parts.append(f"{key.replace('_', ' ')} {value}")
    return ", ".join(parts[:6]) or "nothing to report"


def _did_line(decision: dict) -> str:
    text = f"{decision.get('kind', '?')} {decision.get('target', '')}".strip()
    if decision.get("bead"):
        text += f" {decision['bead']}"
    if decision.get("done") is False:
        text += f" (not done: {(decision.get('detail') or {}).get('error', '?')})"
    return text


class ActivityLog:
    """The last runs of every patrol of one runner (attach with `ActivityLog(runner)`)."""

    def __init__(self, runner) -> None:
        self.runner = runner
        self._runs: dict[str, deque[RunLine]] = {}
        self._escalations: dict[str, deque[str]] = {}
        self._unsubscribe = runner.subscribe(self._on_record)

    def close(self) -> None:
        self._unsubscribe()

    def _on_record(self, record) -> None:
        report = record.report
        did = tuple(_did_line(d.to_dict()) for d in report.did) if report else ()
        line = RunLine(record.started_at, record.reason, round(record.finished_at - record.started_at, 3),
                       _saw_summary(report.saw if report else {}), did,
                       record.error.splitlines()[0] if record.error else None)
        self._runs.setdefault(record.patrol, deque(maxlen=RECENT)).append(line)
        for text in did:
            if text.startswith("escalate"):
                stamp = time.strftime("%H:%M:%S", time.localtime(record.started_at))
                self._escalations.setdefault(record.patrol, deque(maxlen=RECENT)).append(f"{stamp} {text}")

    def activity(self, role: str, rig: str | None = None) -> PatrolActivity:
        name = patrol_name(role, rig)
        status = self.runner.get_status(name)
        recent = tuple(reversed(self._runs.get(name, ())))       # newest first
        escalations = tuple(reversed(self._escalations.get(name, ())))
        if status is None:
            return PatrolActivity(name, role, rig, "not running", recent=recent, escalations=escalations)
        return PatrolActivity(name, role, rig, status.state, status.runs, status.failures, status.next_run_at,
                              status.interval, recent, escalations)
