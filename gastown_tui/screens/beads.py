"""Beads: list, filter and search every ledger of the town; show a bead with its dependencies,
comments and history; create, edit, close, sling.

The ledgers are read in a worker thread. Every match is reachable, but the table is given them a page
(`PAGE` rows) at a time: the first page at once, the next when the cursor or the scroll nears the end of
what is loaded, all the rest (a page per loop turn) when the reader asks for the last row. A 10,000-bead
town then stays quick to open and to filter. The border says how many matched, of how many beads, and
how many rows are loaded while some are not.
"""
from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Input, Static

from gastown_tui.screens.form import Field, FormScreen
from gastown_tui.ui.keys import BEADS_KEYS, bindings
from gastown_tui.ui.wire import beads_from_wire, priority_problem
from widgets.bead_table import BeadTable
from gastown_tui.screens.headed_screen import HeadedScreen
from widgets.view_models import TownView

PAGE = 500
FILTERS = ("open", "ready", "in_progress", "closed", "all")


def matches(issue, status_filter: str, query: str) -> bool:
    if status_filter == "open" and issue.status == "closed":
        return False
    if status_filter == "ready" and issue.status != "open":
        return False
    if status_filter in ("in_progress", "closed") and issue.status != status_filter:
        return False
    if query:
        q = query.lower()
        return q in issue.id.lower() or q in issue.title.lower() or q in (issue.assignee or "").lower()
    return True


def bead_text(issue, events, cost: str = "") -> Text:
    text = Text()
    text.append(f"{issue.id} ", style="bold")
    text.append(f"{issue.title}\n")
    text.append(f"{issue.issue_type} · P{issue.priority} · {issue.status}", style="italic")
    if issue.assignee:
        text.append(f" · @{issue.assignee}")
    if cost:
        text.append(f"\ncost: {cost}", style="bold")
    if issue.labels:
        text.append(f"\nlabels: {', '.join(issue.labels)}", style="dim")
    if issue.description:
        text.append(f"\n\n{issue.description.strip()}\n")
    if issue.dependencies:
        text.append("\ndependencies\n", style="bold")
        for dep in issue.dependencies:
            text.append(f"  {dep.type} → {dep.depends_on_id}\n")
    if issue.comments:
        text.append("\ncomments\n", style="bold")
        for c in issue.comments:
            text.append(f"  {c.created_at[:19]} {c.author}: ", style="dim")
            text.append(f"{c.text}\n")
    text.append("\nhistory\n", style="bold")
    text.append(f"  {issue.created_at[:19]} created" + (f" by {issue.created_by}" if issue.created_by else "") + "\n")
    for e in events:
        text.append(f"  {e.ts[:19]} {e.type} {e.actor} {e.summary}\n")
    if issue.updated_at and issue.updated_at != issue.created_at:
        text.append(f"  {issue.updated_at[:19]} last updated\n")
    if issue.closed_at:
        text.append(f"  {issue.closed_at[:19]} closed: {issue.close_reason or ''}\n")
    return text


class BeadsScreen(HeadedScreen):
    BINDINGS = bindings(BEADS_KEYS)

    def __init__(self, bead_id: str | None = None) -> None:
        super().__init__(id="beads")
        self.header_title = "Beads"
        self.wanted = bead_id
        self.beads: list = []
        self.found: list = []  # every bead matching the filter and the search, in table order
        self.shown: list = []  # the rows the table holds so far (a prefix of `found`)
        self._query = ""
        self.status_filter = "all" if bead_id else "open"
        self.costs: dict[str, str] = {}  # bead id -> what its model calls cost (a "cost" column once any)

    def compose(self) -> ComposeResult:
        yield self.town_header()
        yield Input(placeholder="search id, title or assignee (/)", id="bead-search")
        with Horizontal(id="beads-body"):
            yield BeadTable(id="bead-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="bead-show-box"):
                yield Static("", id="bead-show")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("id", "P", "status", "title", "type", "assignee")
        table.border_title = "Beads (loading...)"
        self.query_one("#bead-show-box").border_title = "Bead"
        if self.app.controller.view is not None:
            self.show_town(self.app.controller.view)
        self.load()
        table.focus()

    def show_town(self, view: TownView) -> None:
        super().show_town(view)
        costs = dict(view.spend.beads) if view.spend is not None else {}
        if costs != self.costs:
            had, self.costs = bool(self.costs), costs
            table = self.query_one(BeadTable)
            if costs and not had:
                table.add_column("cost", key="cost")
            if self.beads:
                self.wanted = self.wanted or (self.current().id if self.current() is not None else None)
                self._fill()

    def action_finished(self, _message) -> None:
        """A domain action changed the ledgers: read them again, the cursor staying on its bead (when it
        still matches), however far down the list it was."""
        bead = self.current()
        if bead is not None and self.wanted is None:
            self.wanted = bead.id
        self.load()

    def load(self) -> None:
        self.app.load("beads.all", self._loaded, group="beads-load", owner=self, decode=beads_from_wire)

    def _loaded(self, beads: list | None, error: str | None) -> None:
        self.beads = beads or []  # sorted by the town, decoded in a thread
        if error:
            self.query_one(DataTable).border_title = f"Beads: {error}"
        self._fill()

    def _fill(self) -> None:
        """The matches of the filter and the search, from the first page (the cursor on the first row)."""
        self.workers.cancel_group(self, "beads-page")
        self._query = self.query_one("#bead-search", Input).value.strip()
        self.found = [b for b in self.beads if matches(b, self.status_filter, self._query)]
        self.shown = []
        self.query_one(DataTable).clear()
        wanted, self.wanted = self.wanted, None
        ids = [b.id for b in self.found]
        index = ids.index(wanted) if wanted in ids else 0
        self._add_rows(max(PAGE, (index // PAGE + 1) * PAGE))  # a bead asked for by id is loaded with its page
        if index:
            self.query_one(DataTable).move_cursor(row=index)
        self._show()

    def _add_rows(self, upto: int) -> None:
        """Gives the table the matches up to row `upto` (it keeps what it has) and says so in the border."""
        table = self.query_one(BeadTable)
        start = len(self.shown)
        page = self.found[start:upto]
        costs = self.costs
        for b in page:
            cells = [b.id, str(b.priority), b.status, b.title[:60], b.issue_type, b.assignee or ""]
            if "cost" in table.columns:
                cells.append(costs.get(b.id, ""))
            table.add_row(*cells, key=b.id)
        self.shown.extend(page)
        table.more = len(self.shown) < len(self.found)
        loaded = f", {len(self.shown)} loaded: more as you scroll" if table.more else ""
        table.border_title = f"Beads: {self.status_filter}" + (f" matching {self._query!r}" if self._query else "") + \
            f" ({len(self.found)} of {len(self.beads)}{loaded})"

    @on(BeadTable.NearEnd)
    def _near_end(self, _event) -> None:
        table = self.query_one(BeadTable)
        if table.near_end():  # still (a page may have arrived since the message was sent)
            self._add_rows(len(self.shown) + PAGE)

    @on(BeadTable.EndWanted)
    def _end_wanted(self, _event) -> None:
        self.run_worker(self._load_to_end(), group="beads-page", exclusive=True, exit_on_error=False)

    async def _load_to_end(self) -> None:
        """Every remaining match, a page per loop turn (keys and redraws go on meanwhile); then the last row."""
        while len(self.shown) < len(self.found):
            self._add_rows(len(self.shown) + PAGE)
            await asyncio.sleep(0)
        table = self.query_one(BeadTable)
        if table.row_count:
            table.move_cursor(row=table.row_count - 1)

    def current(self):
        table = self.query_one(DataTable)
        if not self.shown or table.cursor_row is None or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def _show(self, _event=None) -> None:
        self.query_one(BeadTable).check_near_end()
        bead = self.current()
        box = self.query_one("#bead-show", Static)
        if bead is None:
            box.update(Text("no bead selected", style="dim"))
            return
        view = self.app.controller.view
        events = [e for e in (view.events if view else []) if bead.id in e.summary]
        box.update(bead_text(bead, events, self.costs.get(bead.id, "")))

    @on(Input.Changed, "#bead-search")
    def _search(self, _event) -> None:
        self._fill()

    @on(Input.Submitted, "#bead-search")
    def _search_done(self, _event) -> None:
        self.query_one(DataTable).focus()

    def action_search(self) -> None:
        self.query_one("#bead-search", Input).focus()

    def action_cycle_filter(self) -> None:
        self.status_filter = FILTERS[(FILTERS.index(self.status_filter) + 1) % len(FILTERS)]
        self._fill()

    def _form(self, title, fields, then) -> None:
        self.app.push_screen(FormScreen(title, fields), lambda values: values and then(values))

    def action_create(self) -> None:
        rigs = sorted({a.rig for a in self.app.controller.view.agents if a.rig}) if self.app.controller.view else []

        def create(v):
            rig = v["rig"].strip() or None
            fields = {"issue_type": v["type"].strip() or "task", "description": v["description"]}
            if v["priority"].strip():
                fields["priority"] = v["priority"].strip()  # checked by the form; the ledger reads 0-4 or P0-P4
            self.app.act("create bead", "bead.create", title=v["title"], rig=rig, **fields)

        self._form("Create a bead", [
            Field("title", "Title"),
            Field("rig", f"Rig ledger (blank = town){': ' + ', '.join(rigs) if rigs else ''}", rigs[0] if rigs else "",
                  required=False),
            Field("type", "Type (task, bug, feature, epic, chore)", "task", required=False),
            Field("priority", "Priority 0-4", "2", required=False, check=priority_problem),
            Field("description", "Description", multiline=True, required=False)], create)

    def action_edit(self) -> None:
        bead = self.current()
        if bead is None:
            return

        def edit(v):
            fields = {"title": v["title"], "description": v["description"],
                      "assignee": v["assignee"].strip() or None}
            fields["priority"] = v["priority"].strip()  # checked by the form; the ledger reads 0-4 or P0-P4
            self.app.act(f"edit {bead.id}", "bead.update", bead_id=bead.id, **fields)

        self._form(f"Edit {bead.id}", [
            Field("title", "Title", bead.title),
            Field("priority", "Priority 0-4", str(bead.priority), check=priority_problem),
            Field("assignee", "Assignee", bead.assignee or "", required=False),
            Field("description", "Description", bead.description, multiline=True, required=False)], edit)

    def action_close_bead(self) -> None:
        bead = self.current()
        if bead is not None:
            self._form(f"Close {bead.id}", [Field("reason", "Reason", required=False)],
                       lambda v: self.app.act(f"close {bead.id}", "bead.close", bead_id=bead.id,
                                              reason=v["reason"] or None))

    def action_sling(self) -> None:
        bead = self.current()
        if bead is not None:
            self._form(f"Sling {bead.id}", [Field("target", "Rig or agent address")],
                       lambda v: self.app.act(f"sling {bead.id}", "sling", bead_id=bead.id, target=v["target"].strip()))

    def action_back(self) -> None:
        self.app.open_screen("town")
