"""The app's link to one town: the latest view, live session states, and the pane factory.

Not a widget. The App owns one `TownController`; screens read `controller.view`
and ask the App to run actions. Reads of the town happen in worker threads
(`read_view`); file changes under the town wake a refresh (watchfiles, in an
async worker the App starts). Session state changes arrive through the session
manager's plain callbacks and are kept in `live` (the App adapts them to
messages at the edge).
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

from gastown_tui.screens.app_settings import AppSettings
from gastown_tui.screens.ghosts import GhostKeeper
from gastown_tui.screens.town_adapter import Live, Reading, TownAdapter
from widgets.view_models import AgentView, TownView


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


def _no_session_text(agent: AgentView, why: str) -> Text:
    text = Text()
    text.append(f"{agent.address}\n", style="bold")
    if agent.ghost:
        text.append(f"{agent.ghost}: it left the town ({why})\n", style="dim")
        text.append(agent.state_reason, style="dim")
        return text
    text.append(f"no live session ({why})\n", style="dim")
    text.append("press s to start it, or R to restart", style="dim")
    return text


class NoSessionPane(Static, can_focus=False):
    """Shown in a pane slot when the agent has no live session."""

    def __init__(self, agent: AgentView, why: str) -> None:
        super().__init__(_no_session_text(agent, why), classes="no-session")

    def show_agent(self, agent: AgentView, why: str) -> None:
        self.update(_no_session_text(agent, why), layout=False)


class TownController:
    def __init__(self, root: Path, settings: AppSettings, clock: Callable[[], datetime] | None = None,
                 start_agents: bool = True) -> None:
        self.root = root
        self.settings = settings
        self.adapter = TownAdapter(root)
        self.clock = clock or system_clock
        self.start_agents = start_agents
        self.reading: Reading | None = None
        self.view: TownView | None = None
        self.live: dict[str, Live] = {}
        self.unseen: set[str] = set()  # sessions that went idle after working, not looked at since
        self.seen_at: dict[str, datetime] = {}  # when the Overseer last focused each agent
        self.focused: str | None = None  # the agent on the Town screen's centre (it is being looked at)
        self.ghosts = GhostKeeper()  # agents live during this run that have left the town (app memory only)
        self.runtime = None  # the sessions + patrols runtime, when the app runs agents
        self.pane_factory: Callable | None = None  # widgets.terminal_pane.TerminalPane, when it exists

    @property
    def plain(self) -> bool:
        return self.settings.plain_glyphs

    @property
    def sessions(self):
        return getattr(self.runtime, "sessions", None) if self.runtime is not None else None

    # -- reading (worker thread) -----------------------------------------------------------------

    def read_view(self) -> TownView:
        self.reading = self.adapter.read()
        return self.rebuild_view()

    def rebuild_view(self) -> TownView:
        """A new view from the last reading and the live states (cheap: no I/O)."""
        reading = self.reading or Reading(None, {}, [])
        live = dict(self.live)
        view = self.adapter.to_view(reading, live, set(self.unseen), self.sessions is not None,
                                    dict(self.seen_at))
        if reading.snapshot is not None:  # only a complete reading says who has left the town
            ghosts = self.ghosts.observe(view.agents, view.hooks, set(live), self.sessions,
                                         self.adapter.reaped(reading), self.clock(), self.focused)
            if ghosts:
                self.adapter.add_ghosts(view, ghosts, reading)
        self.view = view
        return view

    # -- live session states (called on the loop by the session manager) -------------------------

    def session_state_changed(self, address: str, old: str, new: str, rule: str, at: float | None = None,
                              exit_status: int | None = None) -> None:
        self.live[address] = Live(state=new, since=at or time.time(), rule=rule, exit_status=exit_status)
        if new == "idle" and old in ("working", "needs-approval", "stuck") and address != self.focused:
            self.unseen.add(address)
        elif new != "idle":
            self.unseen.discard(address)

    def mark_seen(self, address: str) -> None:
        self.unseen.discard(address)
        self.seen_at[address] = self.clock()

    def focus(self, address: str) -> bool:
        """The Town screen's centre shows `address` now (the Overseer is looking at it). A ghost there is
        seen; a seen ghost the centre moved away from goes. True when the view needs rebuilding for that."""
        old, self.focused = self.focused, address
        self.mark_seen(address)
        left = old is not None and old != address and self.ghosts.leave(old)
        return self.ghosts.see(address) or left

    def dismiss(self, address: str) -> None:
        """Needs you's dismiss: the agent counts as seen; an agent that left the town goes from the view."""
        self.mark_seen(address)
        self.ghosts.dismiss(address)

    # -- panes -----------------------------------------------------------------------------------

    def pane_sources(self, agents: list[AgentView]) -> tuple:
        """What each agent's pane would show (its session's id, or None): when this changes, panes are
        re-pointed (a session started or was replaced on its own, or the session manager came up)."""
        return tuple((a.address, getattr(self._session_for(a)[0], "id", None)) for a in agents)

    def _session_for(self, agent: AgentView):
        session = self.sessions.get(agent.address) if self.sessions is not None else None
        if session is None and agent.ghost:
            session = self.ghosts.session(agent.address)  # ended: the pane shows its last screen
            if session is None:
                return None, self.ghosts.why_no_screen(agent.address)
        if session is None:
            return None, "agents are not started by this app" if not self.start_agents else "not running"
        if self.pane_factory is None:
            return None, "the terminal pane widget is not built yet"
        return session, ""

    def make_pane(self, agent: AgentView) -> Widget:
        session, why = self._session_for(agent)
        if session is None:
            return NoSessionPane(agent, why)
        return self.pane_factory(session, prefix_key=self.settings.prefix_key)

    def spare_pane(self, content: Widget, agent: AgentView) -> Widget | None:
        """The widget of the other kind a slot keeps hidden next to `content`: a placeholder next to a live
        pane, an idle live pane (no session) next to a placeholder. None when this app has no live panes."""
        if self.pane_factory is None:
            return None
        if isinstance(content, self.pane_factory):
            return NoSessionPane(agent, "not running")
        return self.pane_factory(None, prefix_key=self.settings.prefix_key)

    def retarget_pane(self, panes: list[Widget], agent: AgentView) -> Widget:
        """Points one of a slot's widgets (`panes`, the shown one first) at another agent when one is of
        the right kind (a live pane takes the new session; a placeholder takes the new text); otherwise
        makes a new pane. A live pane left unused lets go of its session (it stays mounted, hidden).
        Switching agents, to or from one without a session, then needs no remount."""
        session, why = self._session_for(agent)
        live = self.pane_factory
        chosen: Widget | None = None
        for pane in panes:
            if session is not None and live is not None and isinstance(pane, live):
                pane.session = session
                chosen = pane
                break
            if session is None and isinstance(pane, NoSessionPane):
                pane.show_agent(agent, why)
                chosen = pane
                break
        for pane in panes:  # a parked live pane must not keep drawing (or resizing) another agent's session
            if pane is not chosen and live is not None and isinstance(pane, live):
                pane.session = None
        return chosen if chosen is not None else self.make_pane(agent)
