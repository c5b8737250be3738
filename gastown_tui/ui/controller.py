"""The app's state of one town: the latest reading and view, live session states, focus, and the panes.

Not a widget. The App owns one `TownController`; screens read `controller.view`
and ask the App to run actions. Single-threaded: every method runs on the app's
event loop. The town is read by the link (`TownLink.call("town.read")`, off the
loop); the reading is handed here (`take_reading`) and the view is built here,
on the loop. Session state changes arrive as `StateEvent`s from the link.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Callable

from textual.widget import Widget

from gastown_tui.client.link import StateEvent, TownLink
from gastown_tui.server.reading import Reading
from gastown_tui.ui.ghosts import GhostKeeper
from gastown_tui.ui.settings import AppSettings
from gastown_tui.ui.town_view import Live, TownViewBuilder
from widgets.no_session_pane import NoSessionPane
from widgets.terminal_pane import TerminalPane
from widgets.view_models import AgentView, TownView


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


class TownController:
    def __init__(self, link: TownLink, settings: AppSettings, clock: Callable[[], datetime] | None = None,
                 start_agents: bool = True) -> None:
        self.link = link
        self.root = link.root
        self.settings = settings
        self.builder = TownViewBuilder(link.root)
        self.clock = clock or system_clock
        self.start_agents = start_agents
        self.reading: Reading | None = None
        self.view: TownView | None = None
        self.live: dict[str, Live] = {}
        self.unseen: set[str] = set()  # sessions that went idle after working, not looked at since
        self.seen_at: dict[str, datetime] = {}  # when the Overseer last focused each agent
        self.focused: str | None = None  # the agent on the Town screen's centre (it is being looked at)
        self.spend: dict | None = None  # the town's last `costs.spend` answer (issue 15)
        self.ghosts = GhostKeeper()  # agents live during this run that have left the town (app memory only)

    @property
    def plain(self) -> bool:
        return self.settings.plain_glyphs

    @property
    def sessions(self):
        return self.link.sessions

    # -- reading (the link reads, off the loop; the view is built here, on the loop) --------------

    def take_reading(self, reading: Reading) -> TownView:
        self.reading = reading
        return self.rebuild_view()

    def rebuild_view(self) -> TownView:
        """A new view from the last reading and the live states (cheap: no I/O)."""
        reading = self.reading or Reading(None)
        live = self.live
        view = self.builder.to_view(reading, live, self.unseen, self.sessions is not None, self.seen_at,
                                    self.spend)
        if reading.town is not None:  # only a complete reading says who has left the town
            ghosts = self.ghosts.observe(view.agents, view.hooks, set(live), self.sessions,
                                         self.builder.reaped(reading), self.clock(), self.focused)
            if ghosts:
                self.builder.add_ghosts(view, ghosts, reading)
        self.view = view
        return view

    def take_spend(self, spend: dict) -> bool:
        """The town's costs were read again; True when they changed (the view needs rebuilding)."""
        if spend == self.spend:
            return False
        self.spend = spend
        return True

    # -- live session states (StateEvents from the link, on the loop) -----------------------------

    def session_state_changed(self, event: StateEvent) -> None:
        address, old, new = event.address, event.old, event.new
        self.live[address] = Live(state=new, since=event.at or time.time(), rule=event.rule,
                                  exit_status=event.exit_status)
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
        return session, ""

    def make_pane(self, agent: AgentView) -> Widget:
        session, why = self._session_for(agent)
        if session is None:
            return NoSessionPane(agent, why)
        return TerminalPane(session, prefix_key=self.settings.prefix_key)

    def spare_pane(self, content: Widget, agent: AgentView) -> Widget:
        """The widget of the other kind a slot keeps hidden next to `content`: a placeholder next to a live
        pane, an idle live pane (no session) next to a placeholder."""
        if isinstance(content, TerminalPane):
            return NoSessionPane(agent, "not running")
        return TerminalPane(None, prefix_key=self.settings.prefix_key)

    def retarget_pane(self, panes: list[Widget], agent: AgentView) -> Widget:
        """Points one of a slot's widgets (`panes`, the shown one first) at another agent when one is of
        the right kind (a live pane takes the new session; a placeholder takes the new text); otherwise
        makes a new pane. A live pane left unused lets go of its session (it stays mounted, hidden).
        Switching agents, to or from one without a session, then needs no remount."""
        session, why = self._session_for(agent)
        live = TerminalPane
        chosen: Widget | None = None
        for pane in panes:
            if session is not None and isinstance(pane, live):
                pane.session = session
                chosen = pane
                break
            if session is None and isinstance(pane, NoSessionPane):
                pane.show_agent(agent, why)
                chosen = pane
                break
        for pane in panes:  # a parked live pane must not keep drawing (or resizing) another agent's session
            if pane is not chosen and isinstance(pane, live):
                pane.session = None
        return chosen if chosen is not None else self.make_pane(agent)
