"""The one place where the app meets the domain: town read models in, display models out.

`TownAdapter.read()` (called in a worker thread) asks the town for its snapshot
(`gastown_tui.town.snapshot.town_snapshot`) and molecule progress (meow), and
`to_view()` turns that plus the live session states into the `TownView` the
widgets render. Every domain action the screens offer goes through `actions`
here too, so when a domain function is missing or renamed there is exactly one
place to change, and the user sees "not built yet: <function>" instead of a crash.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gastown_tui.errors import UserError
from widgets.glyphs import ATTENTION
from widgets.view_models import (AgentView, ConvoyView, EventView, HookView, MailView, MRView, NeedsYouItem,
                                 StepView, TownView, TrackedView)

OVERSEER = "overseer"

# session state (sessions layer) -> display state
SESSION_STATE = {"starting": "starting", "working": "working", "needs-approval": "needs_approval", "idle": "idle",
                 "stuck": "stuck", "exited": "dead"}
# ledger agent_state (town layer, Gas Town's words) -> display state, when no live session says better
LEDGER_STATE = {"spawning": "starting", "working": "working", "running": "working", "done": "finished_unseen",
                "stuck": "stuck", "escalated": "needs_approval", "idle": "idle", "nuked": "dead"}


def polecat_address(mr) -> str | None:
    """The address of the polecat behind an MR (the ledger may hold the address or just the name)."""
    if not mr.polecat:
        return None
    return mr.polecat if "/" in mr.polecat else f"{mr.rig}/polecats/{mr.polecat}"


class NotBuiltYet(UserError):
    """A domain function the app needs does not exist yet (named in the message)."""


def domain(path: str):
    """`module:function` from the domain, or NotBuiltYet naming it."""
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise NotBuiltYet(f"not built yet: {path}") from None
        raise
    try:
        return getattr(module, attr)
    except AttributeError:
        raise NotBuiltYet(f"not built yet: {path}") from None


def parse_ts(text: Any) -> datetime | None:
    if isinstance(text, (int, float)):
        return datetime.fromtimestamp(text, tz=timezone.utc)
    if not text or not isinstance(text, str):
        return None
    t = text.strip().replace("Z", "+00:00")
    if "." in t:  # RFC3339Nano: trim to microseconds for fromisoformat
        head, _, rest = t.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        tz = rest[len(digits):]
        t = f"{head}.{digits[:6].ljust(6, '0')}{tz}"
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


@dataclass
class Live:
    """What the session manager says about one agent right now."""

    state: str  # a sessions state
    since: float  # epoch seconds
    rule: str = ""
    exit_status: int | None = None


@dataclass
class Reading:
    """The raw result of one read of the town (domain objects), made in a worker thread."""

    snapshot: Any | None
    progress: dict[str, Any]  # molecule root id -> meow Progress
    errors: list[str]


def _get(obj, name, default=None):
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


class TownAdapter:
    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def town(self):
        return domain("gastown_tui.town.layout:Town")(self.root)

    # -- reading -----------------------------------------------------------------------------------

    def read(self, events_limit: int = 200) -> Reading:
        """One reading of the town, taken in the patrols' turn (ledger objects are shared with them)."""
        from gastown_tui.screens.town_actions import _turn

        with _turn():
            return self._read(events_limit)

    def _read(self, events_limit: int) -> Reading:
        errors: list[str] = []
        snapshot = None
        try:
            snapshot = domain("gastown_tui.town.snapshot:town_snapshot")(self.town, events_limit=events_limit)
        except UserError as exc:
            errors.append(str(exc))
        except Exception as exc:  # a broken file must not leave the app blank: say what broke
            errors.append(f"cannot read the town: {type(exc).__name__}: {exc}")
        progress: dict[str, Any] = {}
        if snapshot is not None:
            for agent in _get(snapshot, "agents", []):
                root = _get(agent, "molecule")
                if root and root not in progress:
                    try:
                        progress[root] = self._progress(agent, root)
                    except Exception as exc:  # a broken molecule shows as an error line, not a crash
                        errors.append(f"molecule {root} of {_get(agent, 'address')}: {exc}")
        return Reading(snapshot, progress, errors)

    def _progress(self, agent, root: str):
        ledger_for_id = domain("gastown_tui.town.ledgers:ledger_for_id")
        ledger = ledger_for_id(self.town, root)
        return domain("gastown_tui.meow:progress")(ledger, root)

    def to_view(self, reading: Reading, live: dict[str, Live], unseen: set[str], managing_sessions: bool,
                seen_at: dict[str, datetime] | None = None) -> TownView:
        snap = reading.snapshot
        view = TownView(name=_get(snap, "name", self.root.name) if snap else self.root.name, root=str(self.root))
        view.errors = list(reading.errors)
        if snap is None:
            return view
        for info in _get(snap, "agents", []):
            view.agents.append(self._agent(info, live.get(_get(info, "address")), unseen, managing_sessions,
                                           seen_at or {}))
            hook = self._hook(info, reading.progress)
            view.hooks[hook.agent] = hook
        by_bead = {h.bead_id: h for h in view.hooks.values() if h.bead_id}  # molecule progress of hooked beads
        for convoy in _get(snap, "convoys", []):
            tracked = []
            for t in _get(convoy, "tracked", []):
                bead_id = _get(t, "bead_id") or _get(t, "id")
                hook = by_bead.get(bead_id)
                tracked.append(TrackedView(bead_id=bead_id, title=_get(t, "title", ""), status=_get(t, "status", ""),
                                           holder=_get(t, "assignee"), steps_done=hook.done if hook else 0,
                                           steps_total=len(hook.steps) if hook else 0))
            view.convoys.append(ConvoyView(id=_get(convoy, "id"), title=_get(convoy, "title", ""),
                                           status=_get(convoy, "status", ""), tracked=tuple(tracked)))
        for mail in sorted(_get(snap, "mail", []), key=lambda m: _get(m, "created_at", ""), reverse=True):
            view.inbox.append(self.mail_view(mail))
        for mr in _get(snap, "mrs", []):
            view.mrs.append(MRView(
                id=_get(mr, "id"), rig=_get(mr, "rig", ""), polecat=_get(mr, "polecat", "") or "",
                bead_id=_get(mr, "source_bead", "") or "", title=_get(mr, "title", ""),
                priority=int(_get(mr, "priority", 2) or 0), state=_get(mr, "state", "queued"),
                branch=_get(mr, "branch", "") or "", target=_get(mr, "target", "") or "main",
                gate_output=_get(mr, "gate_output", "") or ""))
        for event in _get(snap, "events", []):
            if str(_get(event, "type", "")).endswith("_run") and not (_get(event, "payload", {}) or {}).get("did"):
                continue  # a patrol or dog run that did nothing is noise in the feed (it stays in the log)
            view.events.append(EventView(ts=_get(event, "ts", ""), type=_get(event, "type", ""),
                                         actor=_get(event, "actor", ""), summary=self._summary(event)))
        view.needs_you = self.needs_you(view, _get(snap, "escalations", []))
        return view

    @staticmethod
    def mail_view(mail) -> MailView:
        return MailView(id=_get(mail, "id"), sender=_get(mail, "sender", ""), to=_get(mail, "to", ""),
                        subject=_get(mail, "subject", ""), body=_get(mail, "body", ""),
                        read=bool(_get(mail, "read", False)), thread_id=_get(mail, "thread_id"),
                        timestamp=_get(mail, "created_at", ""))

    @staticmethod
    def _summary(event) -> str:
        payload = _get(event, "payload", {}) or {}
        if isinstance(payload, dict):
            parts = [f"{k}={v}" for k, v in payload.items() if isinstance(v, (str, int, float)) and k != "did"]
            return " ".join(parts)[:200]
        return str(payload)[:200]

    def _agent(self, info, live: Live | None, unseen: set[str], managing: bool,
               seen_at: dict[str, datetime]) -> AgentView:
        address = _get(info, "address")
        hook = _get(info, "hook_bead")
        if live is not None:
            state = SESSION_STATE.get(live.state, live.state)
            if state == "dead" and not hook and (live.exit_status or 0) == 0:
                state = "stopped"
            since = datetime.fromtimestamp(live.since, tz=timezone.utc)
            reason = live.rule
        else:
            ledger_state = _get(info, "agent_state", "idle")
            state = LEDGER_STATE.get(ledger_state, "idle")
            if managing and state in ("working", "starting", "stuck", "needs_approval"):
                state = "dead" if hook else "stopped"  # the ledger says busy, but no session runs it
                reason = f"ledger says {ledger_state}; no session"
            else:
                reason = f"ledger: {ledger_state}"
            since = parse_ts(_get(info, "updated_at"))
        if state == "idle" and address in unseen:  # a session went idle after working; not looked at since
            state = "finished_unseen"
        elif state == "finished_unseen":  # the ledger says done: unseen until the Overseer focuses it
            seen = seen_at.get(address)
            if seen is not None and (since is None or seen >= since):
                state = "idle"
        name = _get(info, "name") or _get(info, "role") or address
        return AgentView(address=address, role=_get(info, "role", ""), rig=_get(info, "rig"), name=name,
                         state=state, hook_id=hook, hook_title=_get(info, "hook_title") or "", since=since,
                         state_reason=reason, live=live is not None and live.state != "exited")

    # -- agents that left the town (see screens/ghosts.py) -------------------------------------------

    @staticmethod
    def reaped(reading: Reading) -> set[str]:
        """Addresses of the polecats the reading's events say were reaped (their work landed)."""
        out = set()
        for event in _get(reading.snapshot, "events", []) if reading.snapshot is not None else []:
            if _get(event, "type") == "polecat_reaped":
                agent = (_get(event, "payload", {}) or {}).get("agent")
                if agent:
                    out.add(agent)
        return out

    def add_ghosts(self, view: TownView, ghosts, reading: Reading) -> None:
        """Shows the ghosts under their rigs, with their last hooks; the unseen ones in Needs you."""
        for ghost in ghosts:
            view.agents.append(ghost.agent)
            view.hooks[ghost.agent.address] = ghost.hook
        unseen = {g.agent.address for g in ghosts if not g.seen}
        view.needs_you = self.needs_you(view, _get(reading.snapshot, "escalations", []), unseen)

    @staticmethod
    def _hook(info, progress: dict[str, Any]) -> HookView:
        root = _get(info, "molecule")
        steps: tuple[StepView, ...] = ()
        formula = None
        p = progress.get(root) if root else None
        total = done = None
        if p is not None:
            window = getattr(p, "window", None)  # a big lazy wisp (meow): only the steps around the next one
            shown = window() if window is not None else _get(p, "steps", [])
            steps = tuple(StepView(id=_get(s, "id"), title=_get(s, "title", ""), status=_get(s, "status", ""),
                                   ready=bool(_get(s, "ready", False))) for s in shown)
            formula = _get(p, "formula")
            if window is not None:
                total, done = p.total, p.done
        return HookView(agent=_get(info, "address"), bead_id=_get(info, "hook_bead"),
                        title=_get(info, "hook_title") or "", status=_get(info, "hook_status", "") or "",
                        molecule_id=root, formula=formula, steps=steps, total=total, done_count=done,
                        ralph=domain("gastown_tui.town.ralph:hook_line")(p) if p is not None else "")

    @staticmethod
    def needs_you(view: TownView, escalations, unseen_ghosts=frozenset()) -> list[NeedsYouItem]:
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
            esc_id, title, severity = (esc[0], esc[1], esc[2]) if isinstance(esc, (tuple, list)) else (
                _get(esc, "id"), _get(esc, "title", ""), _get(esc, "severity", "?"))
            items.append(NeedsYouItem(kind="escalation", key=esc_id, title=title, detail=f"severity {severity}"))
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
