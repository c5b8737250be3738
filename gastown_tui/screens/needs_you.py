"""Needs you: one queue of everything waiting for a person, most urgent first.

`n` moves to the next item, `enter` acts on it, `space` does both (from the top on a fresh visit): an agent item opens its pane on
the Town screen, a failed merge opens the merge queue at that request, mail
opens the message, an escalation opens its bead. `R` restarts a dead or stuck
agent; `d` dismisses (marks mail read, a finished agent seen; one that has left
the town is dropped from the tree).
"""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Static

from gastown_tui.ui.keys import NEEDS_YOU_KEYS, bindings
from widgets.action_bar import ActionBar
from gastown_tui.screens.headed_screen import HeadedScreen
from widgets.view_models import NeedsYouItem, TownView

KIND_LABEL = {"approval": "needs approval", "stuck": "stuck", "dead": "dead", "finished": "finished (unseen)",
              "escalation": "escalation", "merge_failed": "merge failed", "mail": "mail"}
KIND_STYLE = {"approval": "bold yellow", "escalation": "bold red", "merge_failed": "red", "dead": "bold red",
              "stuck": "red", "mail": "bold", "finished": "cyan"}


class NeedsYouScreen(HeadedScreen):
    BINDINGS = bindings(NEEDS_YOU_KEYS)

    def __init__(self) -> None:
        super().__init__(id="needs_you")
        self.header_title = "Needs you"
        self.items: list[NeedsYouItem] = []

    def compose(self) -> ComposeResult:
        yield self.town_header()
        yield ActionBar([("Act", "act"), ("Next", "next_item"), ("Nudge", "nudge"), ("Restart", "restart"),
                         ("Dismiss", "dismiss_item"), ("Back", "back")], id="needs-bar")
        yield DataTable(id="queue", cursor_type="row", zebra_stripes=True)
        yield Static("", id="queue-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.border_title = "Needs you"
        table.add_columns("#", "what", "about", "detail")
        if self.app.controller.view is not None:
            self.show_town(self.app.controller.view)

    def show_town(self, view: TownView) -> None:
        super().show_town(view)
        table = self.query_one(DataTable)
        keep = table.cursor_row
        self.items = list(view.needs_you)
        table.clear()
        for n, item in enumerate(self.items, start=1):
            table.add_row(str(n), Text(KIND_LABEL.get(item.kind, item.kind), style=KIND_STYLE.get(item.kind, "")),
                          item.title, item.detail, key=f"{item.kind}:{item.key}")
        table.border_title = f"Needs you ({len(self.items)})"
        if self.items:
            table.move_cursor(row=min(keep, len(self.items) - 1))
        self._show_detail()

    def current(self) -> NeedsYouItem | None:
        table = self.query_one(DataTable)
        if not self.items or table.cursor_row is None or table.cursor_row >= len(self.items):
            return None
        return self.items[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def _show_detail(self, _event=None) -> None:
        item = self.current()
        detail = self.query_one("#queue-detail", Static)
        if item is None:
            detail.update(Text("Nothing needs you. (t: back to the town)", style="dim"))
        else:
            hint = {"mail": "enter reads it, d marks it read", "merge_failed": "enter opens the merge queue",
                    "escalation": "enter opens the bead", "dead": "enter opens its pane, R restarts it",
                    "stuck": "enter opens its pane, R restarts it", "approval": "enter opens its pane to answer",
                    "finished": "enter opens its pane (its last screen), d marks it seen"}.get(item.kind, "")
            detail.update(Text(f"{item.title}\n{item.detail}\n{hint}"))

    @on(DataTable.RowSelected)
    def _selected(self, _event) -> None:
        self.action_act()

    def action_next_item(self) -> None:
        table = self.query_one(DataTable)
        if self.items:
            table.move_cursor(row=(table.cursor_row + 1) % len(self.items))

    def action_next_and_act(self) -> None:
        """One key: the item after the highlighted one, acted on at once (the first item when nothing was acted on
        yet on this visit)."""
        if not self.items:
            self.notify("nothing needs you")
            return
        if getattr(self, "_acted", False):
            self.action_next_item()
        self._acted = True
        self.action_act()

    def action_act(self) -> None:
        item = self.current()
        if item is None:
            self.notify("nothing needs you")
            return
        if item.kind in ("approval", "stuck", "dead", "finished") and item.agent:
            self.app.open_screen("town")
            town = self.app.screen
            if hasattr(town, "focus_agent"):
                town.focus_agent(item.agent)
                if item.kind == "approval":  # it is asking: the keyboard goes straight to its pane
                    town.action_focus_pane()
        elif item.kind == "merge_failed":
            self.app.open_screen("merge_queue", mr_id=item.key)
        elif item.kind == "mail":
            self.app.open_screen("mail", mail_id=item.key)
        elif item.kind == "escalation":
            self.app.open_screen("beads", bead_id=item.key)

    def action_restart(self) -> None:
        item = self.current()
        if item is not None and item.agent:
            self.app.agent_lifecycle("restart", item.agent)
        else:
            self.notify("this item is not about an agent", severity="warning")

    def action_nudge(self) -> None:
        item = self.current()
        if item is not None and item.agent:
            self.app.ask_nudge(item.agent)
        else:
            self.notify("this item is not about an agent", severity="warning")

    def action_dismiss_item(self) -> None:
        item = self.current()
        if item is None:
            return
        if item.kind == "mail":
            self.app.act(f"mark {item.key} read", "mail.mark_read", mail_id=item.key)
        elif item.agent:
            self.app.controller.dismiss(item.agent)  # seen; one that left the town goes from the tree too
            self.app.live_changed()

    def action_back(self) -> None:
        self.app.open_screen("town")
