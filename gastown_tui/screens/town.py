"""The Town screen: agents tree, live pane(s), hook + convoys + inbox, activity feed."""
from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.screen import Screen

from gastown_tui.ui.keys import TOWN_KEYS, bindings
from widgets.action_bar import ActionBar
from widgets.activity_feed import ActivityFeed
from widgets.agent_tree import AgentTree, tree_order
from widgets.convoy_tree import ConvoyTree
from widgets.glyphs import ATTENTION
from widgets.hook_panel import HookPanel
from widgets.key_footer import KeyFooter
from widgets.inbox import InboxList
from widgets.pane_grid import LAYOUTS, PaneGrid
from widgets.terminal_pane import TerminalPane
from widgets.town_header import TownHeader
from widgets.view_models import TownView


def first_live(view: TownView) -> str | None:
    """The agent the centre shows at launch: the first one (tree order) with a live session."""
    return next((a.address for a in tree_order(view.agents) if a.live), None)


class TownScreen(Screen):
    """The main screen. Holds which agent is focused and how the centre is laid out.

    At launch the centre follows the first agent (tree order) that has a live session; while none has,
    it shows the first agent and moves to the first one that becomes live. That automatic choice stops
    as soon as it has found a live agent or the Overseer has chosen an agent: a choice is never undone.
    """

    BINDINGS = bindings(TOWN_KEYS)
    AUTO_FOCUS = "#agents"

    plain: var[bool] = var(False)
    """Plain glyphs instead of symbols (settings `app.glyphs`); the widgets that draw glyphs are bound to it."""

    def __init__(self) -> None:
        super().__init__(id="town")
        self.focused_agent: str | None = None
        self.view: TownView | None = None
        self.auto_focus = True  # until the centre shows a live agent or the Overseer chooses one
        self._pane_sources: tuple = ()

    @property
    def controller(self):
        return self.app.controller

    def compose(self) -> ComposeResult:
        yield TownHeader(id="header").data_bind(TownScreen.plain)
        yield ActionBar([("Agents", "toggle_agents"), ("Type", "focus_pane"), ("Nudge", "nudge"),
                         ("Needs you", "app.open_screen('needs_you')"), ("MQ", "app.open_screen('merge_queue')")],
                        id="town-bar")
        with Horizontal(id="body"):
            yield AgentTree(id="agents").data_bind(TownScreen.plain)
            grid = PaneGrid(self.controller.make_pane, self.controller.retarget_pane, self.controller.spare_pane,
                            id="panes")
            if self.controller.view is not None:  # (attached: the town was read first) the panes come with it
                self._first_panes(grid, self.controller.view)
            yield grid.data_bind(TownScreen.plain)
            with Vertical(id="side"):
                yield HookPanel(id="hook")
                yield ConvoyTree(id="convoys").data_bind(TownScreen.plain)
                yield InboxList(id="inbox")
        yield ActivityFeed(id="feed")
        yield KeyFooter()

    def _first_panes(self, grid: PaneGrid, view: TownView) -> None:
        """Makes the grid's first panes with it: the agent `show_town` will focus (it then finds them made)."""
        ordered = tree_order(view.agents)
        addresses = [a.address for a in ordered]
        wanted = first_live(view)
        if wanted not in addresses:
            wanted = addresses[0] if addresses else None
        grid.plain = self.controller.plain
        grid.show(ordered, wanted, {a.address: i for i, a in enumerate(ordered, start=1)})

    def on_mount(self) -> None:
        self.plain = self.controller.plain
        self.query_one(AgentTree).clock = self.controller.clock
        self.query_one(ConvoyTree).border_title = "Convoys"
        self.query_one(AgentTree).border_title = "Agents"
        self.query_one(ActivityFeed).border_title = "Activity"
        self.query_one(HookPanel).border_title = "Hook"
        self.set_interval(5.0, self._tick_ages)
        if self.controller.view is not None:
            self.show_town(self.controller.view)

    _resume_queued = False
    _resumed_once = False

    def post_message(self, message) -> bool:
        """Switching to the town's mode the first time, Textual sends the screen two ScreenResume in a row (the
        mode's first show, then the switch), and each works out every widget's styles again. The second one,
        sent while the first still waits in the queue, finds nothing the first will not see: it is dropped.
        The first one leaves the styles as they are: each widget's were worked out as it mounted, and nothing
        has changed them since (a class or theme change restyles what it changes by itself)."""
        if not isinstance(message, events.ScreenResume):
            return super().post_message(message)
        if self._resume_queued:
            return True
        if not self._resumed_once:  # its first show: every widget was styled as it mounted, a moment ago
            self._resumed_once = True
            message.refresh_styles = False
        self._resume_queued = super().post_message(message)  # (until on_screen_resume takes it)
        return self._resume_queued

    def on_screen_resume(self) -> None:
        self._resume_queued = False
        if self.controller.view is not None and self.controller.view is not self.view:
            self.show_town(self.controller.view)

    def _tick_ages(self) -> None:
        self.query_one(AgentTree).refresh_labels()

    # -- rendering -------------------------------------------------------------------------------

    def ordered(self) -> list:
        return tree_order(self.view.agents) if self.view else []

    def show_town(self, view: TownView) -> None:
        self.view = view
        ordered = self.ordered()
        addresses = [a.address for a in ordered]
        wanted = self.focused_agent
        if self.auto_focus:
            live = first_live(view)
            if live is not None:
                wanted, self.auto_focus = live, False
                if live == "mayor/":  # the town's front door (the Mayor sorts first when it runs)
                    self.app.notify("Tell the Mayor what you want built: Enter types into its pane. It files the "
                                    "work as beads, slings it to polecats, and the Refinery lands it.",
                                    title="The Mayor is listening", timeout=15)
        if wanted not in addresses:
            wanted = addresses[0] if addresses else None
        if wanted is not None and wanted != self.focused_agent:
            self.focused_agent = wanted
            if self.controller.focus(wanted):
                self.app.live_changed()
        sources = self.controller.pane_sources(ordered)
        if sources != self._pane_sources:  # a session came or went by itself: re-point the panes
            if self._pane_sources:
                self.query_one(PaneGrid).reset()
            self._pane_sources = sources
        self.query_one(TownHeader).show_town(view)
        self.query_one(AgentTree).show_agents(view.agents, self.focused_agent)
        self.query_one(ConvoyTree).show_convoys(view.convoys)
        self.query_one(InboxList).show_mail(view.inbox)
        self.query_one(ActivityFeed).show_events(view.events)
        self._show_focus()

    def _show_focus(self) -> None:
        if self.view is None:
            return
        ordered = self.ordered()
        numbers = {a.address: i for i, a in enumerate(ordered, start=1)}
        self.query_one(PaneGrid).show(ordered, self.focused_agent, numbers)
        self.query_one(HookPanel).show_hook(self.view.hooks.get(self.focused_agent or ""), self.focused_agent)
        if self.focused_agent:
            self.query_one(AgentTree).select_agent(self.focused_agent)

    def focus_agent(self, address: str) -> None:
        """Makes `address` the focused agent (tree cursor, centre pane, hook panel)."""
        if self.view is None or self.view.agent(address) is None:
            self.notify(f"no agent {address!r} in this town", severity="warning")
            return
        in_pane = isinstance(self.app.focused, TerminalPane)
        self.auto_focus = False  # the Overseer chose: never moved for them from now on
        self.focused_agent = address
        agent = self.view.agent(address)
        ghosts_changed = self.controller.focus(address)
        self._show_focus()
        if in_pane:  # typing into panes: stay in the new agent's pane when it has one, else the tree
            self.call_after_refresh(self._refocus_after_switch)
        if ghosts_changed or (agent is not None and agent.state == "finished_unseen"):
            self.app.live_changed()

    # -- messages from widgets -------------------------------------------------------------------

    @on(AgentTree.AgentChosen)
    def _agent_chosen(self, event: AgentTree.AgentChosen) -> None:
        if event.address != self.focused_agent:
            self.focus_agent(event.address)

    @on(AgentTree.PaneWanted)
    def _pane_wanted(self, event: AgentTree.PaneWanted) -> None:
        self.remove_class("-agents-open")  # narrow layout: the chosen agent's pane replaces the list
        if event.address != self.focused_agent:
            self.focus_agent(event.address)
        self.action_focus_pane()

    @on(PaneGrid.SlotClicked)
    def _slot_clicked(self, event: PaneGrid.SlotClicked) -> None:
        self.focus_agent(event.address)

    @on(InboxList.MailChosen)
    def _mail_chosen(self, event: InboxList.MailChosen) -> None:
        self.app.open_screen("mail", mail_id=event.mail_id)

    @on(ConvoyTree.BeadChosen)
    def _bead_chosen(self, event: ConvoyTree.BeadChosen) -> None:
        self.app.open_screen("beads", bead_id=event.bead_id)

    async def on_terminal_pane_prefix_key(self, event) -> None:
        """The key after the prefix (ctrl+b by default) in a focused pane: run the app's binding for it."""
        event.stop()
        self.app.prefix_dispatching = True  # keys a pane keeps for its agent (ctrl+p, ctrl+q) count here
        try:
            active = self.active_bindings.get(event.key)
            if active is None or not active.enabled:
                self.notify(f"{self.app.app_settings.prefix_key} {event.key}: no action bound (? lists the keys)",
                            severity="warning")
                return
            await self.app.run_action(active.binding.action, active.node)
        finally:
            self.app.prefix_dispatching = False

    def action_leave_pane(self) -> None:
        self.query_one(AgentTree).focus()

    # -- actions -----------------------------------------------------------------------------------

    def _refocus_after_switch(self) -> None:
        slot = self.query_one(PaneGrid).slot(self.focused_agent or "")
        if slot is not None and slot.content.can_focus:
            slot.content.focus()
        else:
            self.query_one(AgentTree).focus()

    def _step(self, delta: int, attention: bool = False) -> None:
        ordered = self.ordered()
        if not ordered:
            self.notify("no agents in this town yet", severity="warning")
            return
        addresses = [a.address for a in ordered]
        index = addresses.index(self.focused_agent) if self.focused_agent in addresses else -delta
        for i in range(1, len(ordered) + 1):
            candidate = ordered[(index + delta * i) % len(ordered)]
            if not attention or candidate.state in ATTENTION:
                self.focus_agent(candidate.address)
                return
        self.notify("no agent needs you right now")

    def action_next_agent(self) -> None:
        self._step(+1)

    def action_prev_agent(self) -> None:
        self._step(-1)

    def action_next_attention(self) -> None:
        self._step(+1, attention=True)

    def action_prev_attention(self) -> None:
        self._step(-1, attention=True)

    def action_jump(self, number: int) -> None:
        ordered = self.ordered()
        if 1 <= number <= len(ordered):
            self.focus_agent(ordered[number - 1].address)
        else:
            self.notify(f"no agent number {number} (there are {len(ordered)})", severity="warning")

    def action_goto(self) -> None:
        # deferred: made when first used, not before the first frame
        from gastown_tui.screens.goto import GoToScreen  # (made when first used, not before the first frame)

        self.app.push_screen(GoToScreen(self.ordered(), self.controller.plain), self._goto_chosen)

    def _goto_chosen(self, address: str | None) -> None:
        if address:
            self.focus_agent(address)

    def action_focus_pane(self) -> None:
        slot = self.query_one(PaneGrid).slot(self.focused_agent or "")
        if slot is not None and slot.content.can_focus:
            slot.content.focus()
        else:
            self.notify(f"{self.focused_agent}: no live session to type into (s starts it)", severity="warning")

    def action_cycle_layout(self) -> None:
        grid = self.query_one(PaneGrid)
        grid.layout_size = LAYOUTS[(LAYOUTS.index(grid.layout_size) + 1) % len(LAYOUTS)]
        grid.border_title = f"layout {grid.layout_size}"
        self._show_focus()

    def repaint_panes(self) -> None:
        """Rebuilds the pane slots (a session started or stopped)."""
        self.query_one(PaneGrid).reset()
        self._show_focus()

    def set_layout(self, size: int) -> None:
        self.query_one(PaneGrid).layout_size = size
        self._show_focus()

    def on_click(self, event) -> None:
        """Narrow layout: a tap on an agent in the list shows that agent's pane (moving the cursor does not)."""
        if self.has_class("-agents-open") and isinstance(event.widget, AgentTree):
            self.call_after_refresh(self._close_agents_if_chosen)

    def _close_agents_if_chosen(self) -> None:
        node = self.query_one(AgentTree).cursor_node
        if node is not None and node.data:
            self.remove_class("-agents-open")

    def action_toggle_agents(self) -> None:
        """Narrow layout: the agent list in place of the pane, or back."""
        self.toggle_class("-agents-open")
        if self.has_class("-agents-open"):
            self.query_one(AgentTree).focus()

    def action_zoom(self) -> None:
        self.toggle_class("-zoomed")

    def action_toggle_feed(self) -> None:
        self.toggle_class("-feed-hidden")

    def action_nudge(self) -> None:
        if self.focused_agent:
            self.app.ask_nudge(self.focused_agent)

    def action_restart_agent(self) -> None:
        if self.focused_agent:
            self.app.agent_lifecycle("restart", self.focused_agent)

    def action_start_agent(self) -> None:
        if self.focused_agent:
            self.app.agent_lifecycle("start", self.focused_agent)
