"""The facts the patrols decide from: plain read models of the town (`TownFacts`,
`RigFacts`, `WorkerFacts`, ...), named apart from the app's view models
(`widgets/view_models.py`, where `TownView` is what the screen shows).

The decision functions (`witness.decide`, `deacon.decide`, `boot.decide`) take
these facts and a clock value and return `Decision`s; they touch nothing. The
patrol classes gather the facts from the ledger and the session manager
(`patrols/observe.py`) and carry the decisions out. Tests build facts by hand.
"""
from __future__ import annotations

from dataclasses import dataclass, field


def same_moment(a: float | None, b: float | None, tolerance: float = 0.5) -> bool:
    """Whether two times name the same moment (session times converted from the monotonic clock jitter)."""
    return a is not None and b is not None and abs(a - b) <= tolerance


@dataclass
class SessionFacts:
    """A live (or just-dead) agent session as the session manager reports it."""

    alive: bool
    state: str  # starting, working, needs-approval, idle, stuck, exited
    started_at: float
    last_change_at: float  # last screen change other than spinners/clocks
    session_id: str = ""
    state_rule: str = ""


@dataclass
class WorkerFacts:
    """A polecat (or crew member) and its work."""

    address: str
    rig: str
    hook: str | None = None  # the bead on its hook (status hooked or in_progress, assignee = address)
    hook_title: str = ""
    session: SessionFacts | None = None
    done: bool = False  # it ran `gt done`: an MR exists for its hook, or its agent state says done
    mr: str | None = None  # the open merge request for its work
    mr_state: str | None = None
    branch: str | None = None
    has_unmerged_work: bool = False
    agent_state: str | None = None  # the agent bead's state (`done` after `gt done`)
    open_mrs: int = 0  # its merge requests not yet closed (any bead)


@dataclass
class TrackedFacts:
    id: str
    rig: str | None
    status: str
    assignee: str | None = None
    ready: bool = False  # open, not blocked


@dataclass
class ConvoyFacts:
    id: str
    title: str
    status: str
    tracked: list[TrackedFacts] = field(default_factory=list)
    created_at: float | None = None

    @property
    def closed_count(self) -> int:
        return sum(1 for t in self.tracked if t.status == "closed")


@dataclass
class EscalationFacts:
    id: str
    title: str
    severity: str | None = "medium"    # None: the bead's `severity:` line is empty or null
    source: str | None = ""
    routed: bool = False


@dataclass
class RigFacts:
    name: str
    max_polecats: int = 10
    workers: list[WorkerFacts] = field(default_factory=list)
    sessions_known: bool = True  # False: no session manager here, so liveness is unknown


@dataclass
class TownFacts:
    rigs: list[RigFacts] = field(default_factory=list)
    convoys: list[ConvoyFacts] = field(default_factory=list)
    escalations: list[EscalationFacts] = field(default_factory=list)
    patrols: set[str] = field(default_factory=set)  # names of patrols alive in the runner

    def rig(self, name: str) -> RigFacts | None:
        return next((r for r in self.rigs if r.name == name), None)
