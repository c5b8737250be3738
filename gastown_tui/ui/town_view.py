"""Builds what the app shows from what the town says: a `Reading` in, the widgets' `TownView` out.

The town is read by the server (or the app's in-process link) into a typed
`gastown_tui.server.reading.Reading`; `TownViewBuilder.to_view()` turns that
plus the live session states into the `TownView` the widgets render. Plain
Python: no I/O, no Textual, no domain imports; it runs on the app's loop.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gastown_tui.timestamps import to_datetime
from gastown_tui.server.reading import AgentFacts, EscalationFacts, EventFacts, MailFacts, ProgressFacts, Reading
from widgets.glyphs import ATTENTION
from widgets.view_models import (AgentView, ConvoyView, EventView, HookView, MailView, MRView, NeedsYouItem,
                                 NodeView, SpendView, StepView, TownView, TrackedView)

OVERSEER = "overseer"

# Roles that run as patrols inside the town (deterministic code, no agent process) unless a session runs them.
PATROL_ROLES = ("deacon", "boot", "witness", "refinery")

# session state (sessions layer) -> display state
SESSION_STATE = {"starting": "starting", "working": "working", "needs-approval": "needs_approval", "idle": "idle",
                 "stuck": "stuck", "exited": "dead"}
# ledger agent_state (town layer, Gas Town's words) -> display state, when no live session says better
LEDGER_STATE = {"spawning": "starting", "working": "working", "running": "working", "done": "finished_unseen",
                "stuck": "stuck", "escalated": "needs_approval", "idle": "idle", "nuked": "dead"}


def polecat_address(mr: MRView) -> str | None:
    """The address of the polecat behind an MR (the ledger may hold the address or just the name)."""
    if not mr.polecat:
        return None
    return mr.polecat if "/" in mr.polecat else f"{mr.rig}/polecats/{mr.polecat}"


def parse_ts(text: Any) -> datetime | None:
    """An instant from the ledger, the event log or a runtime file (RFC3339 text or epoch seconds), or None."""
    if isinstance(text, (int, float)):
        return datetime.fromtimestamp(text, tz=timezone.utc)
    if not text or not isinstance(text, str):
        return None
    try:
        return to_datetime(text.strip())
    except (ValueError, TypeError):
        return None


@dataclass
class Live:
    """What the session manager says about one agent right now."""

    state: str  # a sessions state
    since: float  # epoch seconds
    rule: str = ""
    exit_status: int | None = None


class TownViewBuilder:
    """Builds the `TownView` the widgets render from a `Reading` and what the app knows live. No I/O."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def to_view(self, reading: Reading, live: dict[str, Live], unseen: set[str], managing_sessions: bool,
                seen_at: dict[str, datetime] | None = None, spend: dict | None = None) -> TownView:
        """`spend`: the town's `costs.spend` answer (costs/report.py `spend_for_app`), when read."""
        town = reading.town
        view = TownView(name=town.name if town else self.root.name, root=str(self.root))
        view.errors = list(reading.errors)
        if town is None:
            return view
        for info in town.agents:
            view.agents.append(self._agent(info, live.get(info.address), unseen, managing_sessions, seen_at or {}))
            hook = self._hook(info, reading.progress)
            view.hooks[hook.agent] = hook
        by_bead = {h.bead_id: h for h in view.hooks.values() if h.bead_id}  # molecule progress of hooked beads
        for convoy in town.convoys:
            tracked = []
            for t in convoy.tracked:
                hook = by_bead.get(t.bead_id)
                tracked.append(TrackedView(bead_id=t.bead_id, title=t.title, status=t.status, holder=t.assignee,
                                           steps_done=hook.done if hook else 0,
                                           steps_total=len(hook.steps) if hook else 0))
            view.convoys.append(ConvoyView(id=convoy.id, title=convoy.title, status=convoy.status,
                                           tracked=tuple(tracked)))
        view.nodes = [NodeView(n.name, n.up, n.ready, n.placed, n.max_polecats,
                               n.load1 / max(1, n.cores or 1) if n.load1 is not None else None, n.problem)
                      for n in town.nodes]
        if spend and (spend.get("recorded") or spend.get("unknown_records")):
            self._add_spend(view, spend)
        for mail in sorted(town.mail, key=lambda m: m.created_at, reverse=True):
            view.inbox.append(self.mail_view(mail))
        for mr in town.mrs:
            view.mrs.append(MRView(
                id=mr.id, rig=mr.rig, polecat=mr.polecat or "", bead_id=mr.source_bead or "", title=mr.title,
                priority=mr.priority, state=mr.state, branch=mr.branch or "", target=mr.target or "main",
                gate_output=mr.gate_output or ""))
        for event in town.events:
            if event.type.endswith("_run") and not event.payload.get("did"):
                continue  # a patrol or dog run that did nothing is noise in the feed (it stays in the log)
            view.events.append(EventView(ts=event.ts, type=event.type, actor=event.actor,
                                         summary=self._summary(event)))
        view.needs_you = self.needs_you(view, town.escalations)
        return view

    @staticmethod
    def _add_spend(view: TownView, spend: dict) -> None:
        """Costs on the view: today's in the header, each agent's, convoy's and tracked bead's. A patrol role
        is code, not a model: it shows $0 (nothing spent), never "unknown"."""
        agents, convoys, beads = spend.get("agents") or {}, spend.get("convoys") or {}, spend.get("beads") or {}
        today = spend.get("today") or ("$0.00" if spend.get("recorded") else "unknown")  # only unreadable ones
        view.spend = SpendView(today=today, beads=dict(beads),
                               unknown_records=int(spend.get("unknown_records") or 0))
        view.agents = [replace(a, cost="$0" if a.state == "patrol" else agents.get(a.address, ""))
                       for a in view.agents]
        view.convoys = [replace(c, cost=convoys.get(c.id, ""),
                                tracked=tuple(replace(t, cost=beads.get(t.bead_id, "")) for t in c.tracked))
                        for c in view.convoys]

    @staticmethod
    def mail_view(mail: MailFacts) -> MailView:
        return MailView(id=mail.id, sender=mail.sender, to=mail.to, subject=mail.subject, body=mail.body,
                        read=mail.read, thread_id=mail.thread_id, timestamp=mail.created_at)

    @staticmethod
    def _summary(event: EventFacts) -> str:
        parts = [f"{k}={v}" for k, v in event.payload.items() if isinstance(v, (str, int, float)) and k != "did"]
        return " ".join(parts)[:200]

    def _agent(self, info: AgentFacts, live: Live | None, unseen: set[str], managing: bool,
               seen_at: dict[str, datetime]) -> AgentView:
        address = info.address
        hook = info.hook_bead
        if live is not None:
            state = SESSION_STATE.get(live.state, live.state)
            if state == "dead" and not hook and (live.exit_status or 0) == 0:
                state = "stopped"
            since = datetime.fromtimestamp(live.since, tz=timezone.utc)
            reason = live.rule
        elif info.role in PATROL_ROLES:
            state, reason = "patrol", "a patrol inside the town: no agent process, no tokens"
            since = parse_ts(info.updated_at)
        else:
            ledger_state = info.agent_state or "idle"
            state = LEDGER_STATE.get(ledger_state, "idle")
            if managing and state in ("working", "starting", "stuck", "needs_approval"):
                state = "dead" if hook else "stopped"  # the ledger says busy, but no session runs it
                reason = f"ledger says {ledger_state}; no session"
            elif managing and state == "idle":
                state = "stopped"  # nothing runs it: the no-session glyph, not the idle one
                reason = f"no session (ledger: {ledger_state})"
            else:
                reason = f"ledger: {ledger_state}"
            since = parse_ts(info.updated_at)
        if state == "idle" and address in unseen:  # a session went idle after working; not looked at since
            state = "finished_unseen"
        elif state == "finished_unseen":  # the ledger says done: unseen until the Overseer focuses it
            seen = seen_at.get(address)
            if seen is not None and (since is None or seen >= since):
                state = "idle"
        name = info.name or info.role or address
        return AgentView(address=address, role=info.role, rig=info.rig, name=name, state=state, hook_id=hook,
                         hook_title=info.hook_title or "", since=since, state_reason=reason,
                         live=live is not None and live.state != "exited", node=info.node or "")

    # -- agents that left the town (see gastown_tui/ui/ghosts.py) ----------------------------------

    @staticmethod
    def reaped(reading: Reading) -> set[str]:
        """Addresses of the polecats the reading's events say were reaped (their work landed)."""
        if reading.town is None:
            return set()
        return {e.payload["agent"] for e in reading.town.events
                if e.type == "polecat_reaped" and e.payload.get("agent")}

    def add_ghosts(self, view: TownView, ghosts, reading: Reading) -> None:
        """Shows the ghosts under their rigs, with their last hooks; the unseen ones in Needs you."""
        for ghost in ghosts:
            view.agents.append(ghost.agent)
            view.hooks[ghost.agent.address] = ghost.hook
        unseen = {g.agent.address for g in ghosts if not g.seen}
        view.needs_you = self.needs_you(view, reading.town.escalations if reading.town else (), unseen)

    @staticmethod
    def _hook(info: AgentFacts, progress: dict[str, ProgressFacts]) -> HookView:
        root = info.molecule
        steps: tuple[StepView, ...] = ()
        formula = None
        p = progress.get(root) if root else None
        if p is not None:
            steps = tuple(StepView(id=s.id, title=s.title, status=s.status, ready=s.ready) for s in p.steps)
            formula = p.formula
        return HookView(agent=info.address, bead_id=info.hook_bead, title=info.hook_title or "",
                        molecule_id=root, formula=formula, steps=steps,
                        total=p.total if p is not None else None, done_count=p.done if p is not None else None,
                        ralph=p.ralph if p is not None else "")

    @staticmethod
    def needs_you(view: TownView, escalations: tuple[EscalationFacts, ...], unseen_ghosts=frozenset()) -> list[NeedsYouItem]:
        """Everything waiting for a person, most urgent first (agents that left the town: the unseen ones)."""
        items: list[NeedsYouItem] = []
        kinds = {"needs_approval": "approval", "stuck": "stuck", "dead": "dead", "finished_unseen": "finished"}
        for agent in view.agents:
            if agent.ghost:
                if agent.address in unseen_ghosts:
                    items.append(NeedsYouItem(kind="finished", key=agent.address,
                                              title=f"{agent.address} {agent.ghost}",
                                              detail=f"{agent.hook_id} {agent.hook_title}" if agent.hook_id
                                              else agent.state_reason, agent=agent.address))
                continue
            if agent.state in ATTENTION:
                items.append(NeedsYouItem(kind=kinds[agent.state], key=agent.address,
                                          title=f"{agent.address} {kinds[agent.state]}",
                                          detail=agent.state_reason or agent.hook_title, agent=agent.address))
        for esc in escalations:
            items.append(NeedsYouItem(kind="escalation", key=esc.id, title=esc.title, detail=f"severity {esc.severity}"))
        for mr in view.mrs:
            if mr.state in ("failed", "conflict"):
                items.append(NeedsYouItem(kind="merge_failed", key=mr.id, title=f"{mr.id} {mr.state}: {mr.title}",
                                          detail=f"{mr.rig}/{mr.polecat} {mr.branch}",
                                                            agent=polecat_address(mr)))
        for mail in view.inbox:
            if not mail.read:
                items.append(NeedsYouItem(kind="mail", key=mail.id, title=f"mail from {mail.sender}: {mail.subject}"))
        order = {"approval": 0, "escalation": 1, "merge_failed": 2, "dead": 3, "stuck": 4, "mail": 5, "finished": 6}
        return sorted(items, key=lambda i: order.get(i.kind, 9))
