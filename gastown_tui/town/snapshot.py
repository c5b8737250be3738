"""The app's read model: one cheap snapshot of the town (one read of each ledger; no git, no processes)."""
from __future__ import annotations

from dataclasses import dataclass, field

from gastown_tui.beads.fields import parse_fields
from gastown_tui.town.agents import AgentInfo
from gastown_tui.town.convoys import ConvoyInfo, list_convoys
from gastown_tui.town.events import Event, read_events
from gastown_tui.town.jsonfile import read_json
from gastown_tui.town.layout import Town
from gastown_tui.town.ledgers import town_ledger
from gastown_tui.town.mail import MailInfo, inbox
from gastown_tui.town.mq import MR, list_mrs
from gastown_tui.town.rigs import list_rigs
from gastown_tui.town.roster import list_agents


@dataclass
class TownSnapshot:
    name: str
    root: str
    rigs: list[str]
    agents: list[AgentInfo] = field(default_factory=list)
    convoys: list[ConvoyInfo] = field(default_factory=list)
    mail: list[MailInfo] = field(default_factory=list)  # to the overseer, newest first
    mrs: list[MR] = field(default_factory=list)  # queue order, open ones first
    escalations: list[tuple[str, str, str, str]] = field(default_factory=list)  # (id, title, severity, created_at)
    events: list[Event] = field(default_factory=list)  # oldest first

    @property
    def unread(self) -> int:
        return sum(1 for m in self.mail if not m.read)


def town_snapshot(town: Town, events_limit: int = 200, include_closed_convoys: bool = True) -> TownSnapshot:
    meta = read_json(town.town_json, default={})
    escalations = []
    for issue in town_ledger(town).list(label="gt:escalation"):
        sev = parse_fields(issue.description).get("severity") or "MEDIUM"
        escalations.append((issue.id, issue.title, sev, issue.created_at))
    return TownSnapshot(
        name=meta.get("name", town.root.name), root=str(town.root), rigs=[r.name for r in list_rigs(town)],
        agents=list_agents(town), convoys=list_convoys(town, include_closed=include_closed_convoys),
        mail=inbox(town, "overseer"), mrs=list_mrs(town, include_closed=True), escalations=escalations,
        events=read_events(town.events_path, limit=events_limit),
    )
