"""One reading of the town as its clients receive it: typed facts, JSON on the wire.

The server (or the app's in-process link) reads the town's ledgers and event log
into a `Reading` (`gastown_tui.server.api.read_town`); the app builds the view it
shows from a Reading plus what it knows live (session states, what the Overseer
has seen). Only the fields the app shows travel. Stdlib only: no domain types,
no Textual.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


# The calls of gastown_tui.server.api that change nothing: a client need not read the town again after them
# (the server announces every call as a `town` event). tests/app/test_api.py keeps this equal to api.READS.
READ_CALLS = frozenset({"town.read", "mr.diff", "mail.inbox", "mail.thread", "beads.all", "seance.sessions",
                        "seance.transcript", "costs.spend"})


@dataclass(frozen=True)
class AgentFacts:
    address: str
    role: str
    rig: str | None
    name: str | None
    agent_state: str
    hook_bead: str | None
    hook_title: str | None
    molecule: str | None
    updated_at: str
    node: str | None = None  # the node it runs on (docs/nodes.md); None: the town machine


@dataclass(frozen=True)
class NodeHealthFacts:
    """A node as the app shows it: its last check (gastown_tui/nodes/health.py) and its polecats."""
    name: str
    up: bool | None  # None: never checked
    ready: bool
    placed: int
    max_polecats: int
    load1: float | None = None
    cores: int | None = None
    mem_avail_mb: int | None = None
    checked_at: float | None = None  # epoch seconds
    problem: str = ""


@dataclass(frozen=True)
class TrackedFacts:
    bead_id: str
    title: str
    status: str
    assignee: str | None


@dataclass(frozen=True)
class ConvoyFacts:
    id: str
    title: str
    status: str
    tracked: tuple[TrackedFacts, ...] = ()


@dataclass(frozen=True)
class MailFacts:
    id: str
    sender: str
    to: str
    subject: str
    body: str
    read: bool
    thread_id: str | None
    created_at: str


@dataclass(frozen=True)
class MRFacts:
    id: str
    rig: str
    title: str
    state: str
    branch: str
    target: str
    source_bead: str | None
    polecat: str | None
    priority: int
    gate_output: str | None


@dataclass(frozen=True)
class EventFacts:
    ts: str
    type: str
    actor: str
    payload: dict = field(default_factory=dict)


@dataclass(frozen=True)
class EscalationFacts:
    id: str
    title: str
    severity: str


@dataclass(frozen=True)
class StepFacts:
    id: str
    title: str
    status: str
    ready: bool


@dataclass(frozen=True)
class ProgressFacts:
    root: str
    formula: str | None
    steps: tuple[StepFacts, ...] = ()   # a big lazy wisp: only the steps around the next one
    total: int | None = None            # ...and then these count them all
    done: int | None = None
    ralph: str = ""                     # the next Ralph step's "attempt k of N" and last failure (town/ralph.py)


@dataclass(frozen=True)
class TownFacts:
    name: str
    agents: tuple[AgentFacts, ...] = ()
    convoys: tuple[ConvoyFacts, ...] = ()
    mail: tuple[MailFacts, ...] = ()  # to the overseer
    mrs: tuple[MRFacts, ...] = ()
    escalations: tuple[EscalationFacts, ...] = ()
    events: tuple[EventFacts, ...] = ()  # oldest first
    nodes: tuple[NodeHealthFacts, ...] = ()  # the town's nodes, when it has any


@dataclass(frozen=True)
class Reading:
    """The result of one read of the town. `town` is None when the read failed (then `errors` says why)."""

    town: TownFacts | None
    progress: dict[str, ProgressFacts] = field(default_factory=dict)  # molecule root id -> its steps
    errors: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Reading":
        town = data.get("town")
        return cls(
            town=_town(town) if town is not None else None,
            progress={k: ProgressFacts(v["root"], v.get("formula"), tuple(_make(StepFacts, s) for s in v["steps"]),
                                       v.get("total"), v.get("done"), v.get("ralph") or "")
                      for k, v in (data.get("progress") or {}).items()},
            errors=tuple(data.get("errors") or ()))


def _make(cls, data: dict[str, Any]):
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def _town(data: dict[str, Any]) -> TownFacts:
    return TownFacts(
        name=data["name"],
        agents=tuple(_make(AgentFacts, a) for a in data["agents"]),
        convoys=tuple(ConvoyFacts(c["id"], c["title"], c["status"], tuple(_make(TrackedFacts, t) for t in c["tracked"]))
                      for c in data["convoys"]),
        mail=tuple(_make(MailFacts, m) for m in data["mail"]),
        mrs=tuple(_make(MRFacts, m) for m in data["mrs"]),
        escalations=tuple(_make(EscalationFacts, e) for e in data["escalations"]),
        events=tuple(_make(EventFacts, e) for e in data["events"]),
        nodes=tuple(_make(NodeHealthFacts, n) for n in data.get("nodes") or ()))
