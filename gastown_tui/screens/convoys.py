"""Convoys: each convoy's tracked beads as a tree with state, holder and molecule progress;
sling ready beads, add beads, close, create a new convoy.
"""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Footer, Static

from gastown_tui.screens.form import Field, FormScreen
from gastown_tui.screens.headed_screen import HeadedScreen
from gastown_tui.ui.keys import CONVOY_KEYS, bindings
from widgets.convoy_tree import ConvoyTree
from widgets.view_models import TownView


class ConvoysScreen(HeadedScreen):
    BINDINGS = bindings(CONVOY_KEYS)

    def __init__(self) -> None:
        super().__init__(id="convoys")
        self.header_title = "Convoys"

    def compose(self) -> ComposeResult:
        yield self.town_header()
        yield ConvoyTree(id="convoy-tree").data_bind(ConvoysScreen.plain)
        yield Static("", id="convoy-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ConvoyTree).border_title = "Convoys"
        if self.app.controller.view is not None:
            self.show_town(self.app.controller.view)

    def show_town(self, view: TownView) -> None:
        super().show_town(view)
        tree = self.query_one(ConvoyTree)
        tree.show_convoys(view.convoys)
        for node in tree.root.children:
            node.expand()
        self._detail()

    def current_convoy(self) -> str | None:
        node = self.query_one(ConvoyTree).cursor_node
        while node is not None and node.parent is not None and node.parent.parent is not None:
            node = node.parent
        if node is not None and node.data:
            return node.data
        if self.view and len(self.view.convoys) == 1:
            return self.view.convoys[0].id
        return None

    @on(ConvoyTree.NodeHighlighted)
    def _detail(self, _event=None) -> None:
        detail = self.query_one("#convoy-detail", Static)
        cid = self.current_convoy()
        convoy = next((c for c in (self.view.convoys if self.view else []) if c.id == cid), None)
        if convoy is None:
            detail.update(Text("No convoy selected. C creates one.", style="dim"))
            return
        ready = [t for t in convoy.tracked if t.status == "open" and not t.holder]
        detail.update(Text(f"{convoy.id} {convoy.title}: {convoy.done}/{convoy.total} done, status {convoy.status}; "
                           f"{len(ready)} ready to sling (s)"))

    @on(ConvoyTree.BeadChosen)
    def _bead(self, event: ConvoyTree.BeadChosen) -> None:
        self.app.open_screen("beads", bead_id=event.bead_id)

    def _convoy_or_warn(self):
        cid = self.current_convoy()
        if cid is None:
            self.notify("select a convoy first", severity="warning")
        return cid

    def action_new_convoy(self) -> None:
        def made(values):
            if values:
                self.app.act("new convoy", "convoy.create", title=values["title"], bead_ids=values["beads"].split())

        self.app.push_screen(FormScreen("New convoy", [Field("title", "Title"),
                                                       Field("beads", "Bead ids (space separated)")]), made)

    def action_sling_ready(self) -> None:
        cid = self._convoy_or_warn()
        convoy = next((c for c in self.view.convoys if c.id == cid), None) if cid and self.view else None
        if convoy is None:
            return
        ready = [t.bead_id for t in convoy.tracked if t.status == "open" and not t.holder]
        if not ready:
            self.notify(f"{cid}: nothing ready to sling")
            return

        def sling(values):
            if values:
                for bead in ready:
                    self.app.act(f"sling {bead}", "sling", bead_id=bead, target=values["target"].strip())

        self.app.push_screen(FormScreen(f"Sling {len(ready)} ready bead(s): {' '.join(ready)}",
                                        [Field("target", "Rig (each gets a new polecat) or agent address")]), sling)

    def action_add_beads(self) -> None:
        cid = self._convoy_or_warn()
        if cid is None:
            return

        def add(values):
            if values:
                self.app.act(f"add to {cid}", "convoy.add", convoy_id=cid, bead_ids=values["beads"].split())

        self.app.push_screen(FormScreen(f"Add beads to {cid}", [Field("beads", "Bead ids (space separated)")]), add)

    def action_close_convoy(self) -> None:
        cid = self._convoy_or_warn()
        if cid is not None:
            self.app.act(f"close {cid}", "convoy.close", convoy_id=cid)

    def action_back(self) -> None:
        self.app.open_screen("town")
