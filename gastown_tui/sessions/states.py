"""What a session reports upward: its state, and the events the manager emits."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field


class SessionState(str, enum.Enum):
    STARTING = "starting"
    WORKING = "working"
    NEEDS_APPROVAL = "needs-approval"
    IDLE = "idle"
    STUCK = "stuck"
    EXITED = "exited"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class StateChange:
    """A session's state changed; `rule` names the rule that decided it, `detail` says why in words."""

    session_id: str
    agent: str
    old: SessionState
    new: SessionState
    rule: str
    detail: str
    at: float


@dataclass(frozen=True)
class SessionStarted:
    session_id: str
    agent: str
    pid: int
    argv: tuple[str, ...]
    at: float


@dataclass(frozen=True)
class SessionExited:
    session_id: str
    agent: str
    exit_status: int | None  # negative: killed by that signal
    at: float


@dataclass(frozen=True)
class NudgeResult:
    """How typing one nudge went. `submitted` is False only with a reason."""

    submitted: bool
    enters: int  # how many times Enter was pressed (1 = first try)
    reason: str = ""


@dataclass(frozen=True)
class NudgeDelivered:
    agent: str
    session_id: str
    message: str
    sender: str
    enters: int
    at: float
    file: str = ""


@dataclass(frozen=True)
class NudgeFailed:
    agent: str
    message: str
    sender: str
    reason: str
    at: float
    file: str = ""
    extra: dict = field(default_factory=dict)
