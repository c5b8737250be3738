"""The plain data the widgets render: one snapshot of the town as the app shows it.

These are display models, filled in by the app's domain adapter
(`gastown_tui/ui/town_view.py`) from the town's read models. Widgets
never read files or call domain code; they render these and post Messages up.
Timestamps are aware datetimes (or None when unknown).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class AgentView:
    address: str  # mayor/, gastown/witness, gastown/polecats/nux, ...
    role: str  # mayor, deacon, boot, witness, refinery, polecat, crew
    rig: str | None
    name: str  # short name shown in the tree
    state: str  # a key of widgets.glyphs.STATES
    hook_id: str | None = None
    hook_title: str = ""
    since: datetime | None = None  # when it entered `state`
    state_reason: str = ""  # the rule or fact that decided the state
    live: bool = False  # a session of this app runs it now
    ghost: str = ""  # "finished" (reaped: its work landed) or "gone": it left the town during this app run and
    # is kept on screen (state "finished") until the Overseer has seen it; "" for agents the town still lists
    cost: str = ""  # what its model calls cost ("$1.23", "N tok price unknown"; "$0" for a patrol); "" unknown/none
    node: str = ""  # the node it runs on (docs/nodes.md); "" the town machine


@dataclass(frozen=True)
class StepView:
    id: str
    title: str
    status: str
    ready: bool = False


@dataclass(frozen=True)
class HookView:
    agent: str
    bead_id: str | None
    title: str = ""
    molecule_id: str | None = None
    formula: str | None = None
    steps: tuple[StepView, ...] = ()
    total: int | None = None        # a big molecule: `steps` holds only those around the next one,
    done_count: int | None = None   # these count them all
    ralph: str = ""     # the next Ralph step: "Ralph attempt k of N" and the last check failure (town/ralph.py)

    @property
    def done(self) -> int:
        if self.done_count is not None:
            return self.done_count
        return sum(1 for s in self.steps if s.status == "closed")

    @property
    def step_count(self) -> int:
        return self.total if self.total is not None else len(self.steps)


@dataclass(frozen=True)
class TrackedView:
    bead_id: str
    title: str
    status: str
    holder: str | None = None
    steps_done: int = 0
    steps_total: int = 0
    cost: str = ""  # what was spent on this bead ("" nothing recorded)


@dataclass(frozen=True)
class ConvoyView:
    id: str
    title: str
    status: str
    tracked: tuple[TrackedView, ...] = ()
    cost: str = ""  # what was spent on this convoy's beads ("" nothing recorded)

    @property
    def done(self) -> int:
        return sum(1 for t in self.tracked if t.status == "closed")

    @property
    def total(self) -> int:
        return len(self.tracked)


@dataclass(frozen=True)
class MailView:
    id: str
    sender: str
    to: str
    subject: str
    body: str = ""
    read: bool = False
    thread_id: str | None = None
    timestamp: str = ""


@dataclass(frozen=True)
class MRView:
    id: str
    rig: str
    polecat: str
    bead_id: str
    title: str
    priority: int
    state: str  # queued, rebasing, testing, conflict, failed, merged
    branch: str = ""
    target: str = "main"
    gate_output: str = ""


@dataclass(frozen=True)
class EventView:
    ts: str
    type: str
    actor: str
    summary: str


@dataclass(frozen=True)
class NeedsYouItem:
    kind: str  # approval, stuck, dead, finished, escalation, mail, merge_failed
    key: str  # agent address, bead id, mail id or MR id the item is about
    title: str
    detail: str = ""
    agent: str | None = None  # the agent to jump to, when there is one


@dataclass(frozen=True)
class SpendView:
    """What the agents' model calls cost, as the app shows it (costs/report.py `spend_for_app`)."""

    today: str = ""  # today's spend ("$1.23", "N tok price unknown"); "" nothing today
    beads: dict[str, str] = field(default_factory=dict)  # bead id -> its cost text
    unknown_records: int = 0  # usage records that could not be read (never counted as zero)


@dataclass(frozen=True)
class NodeView:
    """A node's health as the header shows it: `mini1 up 2/4 load 0.52`, `mini2 DOWN 1/4`."""

    name: str
    up: bool | None  # None: never checked
    ready: bool
    placed: int
    max_polecats: int
    load: float | None = None  # 1-minute load average per core
    problem: str = ""


@dataclass
class TownView:
    name: str
    root: str
    agents: list[AgentView] = field(default_factory=list)
    convoys: list[ConvoyView] = field(default_factory=list)
    inbox: list[MailView] = field(default_factory=list)
    mrs: list[MRView] = field(default_factory=list)
    events: list[EventView] = field(default_factory=list)
    hooks: dict[str, HookView] = field(default_factory=dict)  # by agent address
    needs_you: list[NeedsYouItem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # what could not be read, shown to the user
    spend: SpendView | None = None  # costs (issue 15); None until read, or when no model call was recorded
    nodes: list[NodeView] = field(default_factory=list)  # the town's nodes (none: the header says nothing)

    @property
    def unread(self) -> int:
        return sum(1 for m in self.inbox if not m.read)

    def agent(self, address: str) -> AgentView | None:
        for a in self.agents:
            if a.address == address:
                return a
        return None
