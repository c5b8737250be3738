"""Merge queue: requests with rig, polecat, bead, priority and state; the selected one's files,
diff (unified or side by side) and gate output; approve, send back with a note, re-sling, open pane.
"""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, OptionList, Static
from textual.widgets.option_list import Option

from gastown_tui.screens.form import Field, FormScreen
from gastown_tui.ui.keys import MERGE_QUEUE_KEYS, bindings
from gastown_tui.ui.town_view import polecat_address
from widgets.action_bar import ActionBar
from widgets.diff_model import FileDiff, split_files
from widgets.diff_view import DiffView
from gastown_tui.screens.headed_screen import HeadedScreen
from widgets.view_models import MRView, TownView

STATE_STYLE = {"queued": "", "rebasing": "cyan", "testing": "cyan", "conflict": "bold red", "failed": "bold red",
               "merged": "green"}
FILE_MARK = {"A": "+", "D": "-", "M": "~", "R": ">"}
DONE_STATES = ("merged", "superseded", "rejected")


def normalise_file_entry(entry) -> tuple[str, str]:
    """(status, path) from the town's file list, whichever order it gives them in."""
    a, b = entry
    return (a, b) if len(a) <= 2 and a[:1].isupper() and len(b) > 2 or len(a) == 1 else (b, a)


class MergeQueueScreen(HeadedScreen):
    BINDINGS = bindings(MERGE_QUEUE_KEYS)

    def __init__(self, mr_id: str | None = None) -> None:
        super().__init__(id="merge_queue")
        self.header_title = "Merge queue"
        self.wanted = mr_id
        self.mrs: list[MRView] = []
        self.files: list[FileDiff] = []
        self.diff_mode = "unified"
        self._diff_for: str | None = None

    def compose(self) -> ComposeResult:
        yield self.town_header()
        yield ActionBar([("Approve", "approve"), ("Send back", "send_back"), ("Nudge", "nudge"),
                         ("Re-sling", "resling"), ("Back", "back")], id="mq-bar")
        yield DataTable(id="mrs", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="mr-body"):
            yield OptionList(id="mr-files")
            with Vertical(id="mr-right"):
                yield DiffView(id="mr-diff")
                with VerticalScroll(id="mr-gate-box"):
                    yield Static("", id="mr-gate")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("id", "rig", "polecat", "bead", "pri", "state", "title")
        table.border_title = "Merge queue"
        self.query_one("#mr-files", OptionList).border_title = "Files"
        self.query_one(DiffView).border_title = "Diff (unified)"
        self.query_one("#mr-gate-box").border_title = "Gate output"
        if self.app.controller.view is not None:
            self.show_town(self.app.controller.view)

    def show_town(self, view: TownView) -> None:
        super().show_town(view)
        table = self.query_one(DataTable)
        current = self.current()
        keep = self.wanted or (current.id if current else None)
        self.wanted = None
        self.mrs = sorted(view.mrs, key=lambda m: m.state in DONE_STATES)  # open requests first, queue order kept
        table.clear()
        for mr in self.mrs:
            table.add_row(mr.id, mr.rig, mr.polecat, mr.bead_id, f"P{mr.priority}",
                          Text(mr.state, style=STATE_STYLE.get(mr.state, "")), mr.title, key=mr.id)
        active = sum(1 for m in self.mrs if m.state not in DONE_STATES)
        table.border_title = f"Merge queue ({active} open, {len(self.mrs)} shown)"
        ids = [m.id for m in self.mrs]
        if keep in ids:
            table.move_cursor(row=ids.index(keep))
        self._selected_changed()

    def current(self) -> MRView | None:
        table = self.query_one(DataTable)
        if not self.mrs or table.cursor_row is None or table.cursor_row >= len(self.mrs):
            return None
        return self.mrs[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def _selected_changed(self, _event=None) -> None:
        mr = self.current()
        gate = self.query_one("#mr-gate", Static)
        if mr is None:
            gate.update(Text("The merge queue is empty.", style="dim"))
            self._show_files([])
            return
        gate.update(Text(mr.gate_output or "(no gate output yet)", style="" if mr.gate_output else "dim"))
        if self._diff_for != mr.id:
            self._diff_for = mr.id
            self.load_diff(mr.id)

    def load_diff(self, mr_id: str) -> None:
        self.app.load("mr.diff", lambda found, error: self._diff_loaded(mr_id, found, error), group="mr-diff",
                      owner=self, mr_id=mr_id)

    def _diff_loaded(self, mr_id: str, found: dict | None, error: str | None) -> None:
        files, diff = (found["files"], found["diff"]) if found else ([], "")
        if mr_id != self._diff_for:
            return
        self._diff_error = error
        if error:
            self._show_files([])
            return
        by_path = {f.path: f for f in split_files(diff)}
        ordered = []
        for status, path in (normalise_file_entry(entry) for entry in files):
            ordered.append((status, by_path.get(path) or FileDiff(path, ())))
        listed = {f.path for _, f in ordered}
        for path, f in by_path.items():
            if path not in listed:
                ordered.append(("M", f))
        self._show_files(ordered)

    def _show_files(self, files: list) -> None:
        self.files = [f for _, f in files]
        options = self.query_one("#mr-files", OptionList)
        options.clear_options()
        for status, f in files:
            text = Text(no_wrap=True, overflow="ellipsis")
            text.append(f"{FILE_MARK.get(status[:1], status[:1])} ", style="bold")
            text.append(f.path)
            text.append(f" +{f.added} -{f.removed}", style="dim")
            options.add_option(Option(text, id=f.path))
        options.border_title = f"Files ({len(files)})"
        if files:
            options.highlighted = 0
        self._show_diff()

    @on(OptionList.OptionHighlighted, "#mr-files")
    def _show_diff(self, _event=None) -> None:
        options = self.query_one("#mr-files", OptionList)
        view = self.query_one(DiffView)
        index = options.highlighted
        chosen = self.files[index] if self.files and index is not None and index < len(self.files) else None
        view.show_file(chosen, self.diff_mode)
        mode = "unified" if self.diff_mode == "unified" else "side by side"
        error = getattr(self, "_diff_error", None)
        view.border_title = f"Diff: {error}" if error else f"Diff ({mode})" + (f" · {chosen.path}" if chosen else "")

    # -- actions ---------------------------------------------------------------------------------------

    def _need(self) -> MRView | None:
        mr = self.current()
        if mr is None:
            self.notify("no merge request selected", severity="warning")
        return mr

    def action_toggle_diff_mode(self) -> None:
        self.diff_mode = "side" if self.diff_mode == "unified" else "unified"
        self._show_diff()

    def action_approve(self) -> None:
        mr = self._need()
        if mr is not None:
            self.app.act(f"approve {mr.id}", "mr.approve", mr_id=mr.id)

    def action_send_back(self) -> None:
        mr = self._need()
        if mr is None:
            return

        def send(values: dict | None) -> None:
            if values:
                self.app.act(f"send back {mr.id}", "mr.send_back", mr_id=mr.id, note=values["note"])

        self.app.push_screen(FormScreen(f"Send {mr.id} back to {mr.polecat}",
                                        [Field("note", "Note (mailed to the polecat)", multiline=True)]), send)

    def action_resling(self) -> None:
        mr = self._need()
        if mr is None:
            return

        def send(values: dict | None) -> None:
            if values:
                self.app.act(f"re-sling {mr.id}", "mr.resling", mr_id=mr.id, target=values["target"].strip())

        self.app.push_screen(FormScreen(f"Re-sling {mr.bead_id} to another polecat",
                                        [Field("target", "Polecat address or rig (rig = a new polecat)", mr.rig)]),
                             send)

    def action_open_pane(self) -> None:
        mr = self._need()
        if mr is None:
            return
        address = polecat_address(mr)
        if address is None:
            self.notify(f"{mr.id} names no polecat", severity="warning")
            return
        self.app.open_screen("town")
        town = self.app.screen
        if hasattr(town, "focus_agent"):
            town.focus_agent(address)

    def action_nudge(self) -> None:
        """Types a note into the MR's polecat (the narrow layout's Nudge button)."""
        mr = self._need()
        address = polecat_address(mr) if mr is not None else None
        if mr is not None and address is None:
            self.notify(f"{mr.id} names no polecat", severity="warning")
        elif address is not None:
            self.app.ask_nudge(address)

    def action_back(self) -> None:
        self.app.open_screen("town")
