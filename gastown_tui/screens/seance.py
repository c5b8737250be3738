"""Seance: an identity's past sessions and their transcripts, searchable (`/`)."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from gastown_tui.screens.form import Field, FormScreen
from gastown_tui.ui.keys import SEANCE_KEYS, bindings
from gastown_tui.screens.headed_screen import HeadedScreen
from widgets.view_models import TownView


def transcript_text(lines: list[str], query: str) -> Text:
    text = Text()
    shown = [line for line in lines if query.lower() in line.lower()] if query else lines
    for line in shown:
        row = Text(line + "\n")
        if query:
            row.highlight_words([query], style="reverse", case_sensitive=False)
        text.append_text(row)
    if query and not shown:
        text.append(f"no line matches {query!r}", style="dim")
    return text


class SeanceScreen(HeadedScreen):
    BINDINGS = bindings(SEANCE_KEYS)

    def __init__(self, identity: str | None = None) -> None:
        super().__init__(id="seance")
        self.identity = identity
        self.sessions: list = []
        self.lines: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.town_header()
        yield Input(placeholder="search the transcript (/)", id="seance-search")
        with Horizontal(id="seance-body"):
            yield OptionList(id="seance-sessions")
            with VerticalScroll(id="seance-transcript-box"):
                yield Static("", id="seance-transcript")
        yield Footer()

    def on_mount(self) -> None:
        view = self.app.controller.view
        if self.identity is None:
            town = next((s for s in self.app.screen_stack if hasattr(s, "focused_agent")), None)
            self.identity = getattr(town, "focused_agent", None) or (view.agents[0].address if view and view.agents else "mayor/")
        self.query_one("#seance-transcript-box").border_title = "Transcript"
        if view is not None:
            self.show_town(view)
        self.load()
        self.query_one("#seance-sessions").focus()

    def show_town(self, view: TownView) -> None:
        self.header_title = f"Seance · {self.identity}"
        super().show_town(view)

    def load(self) -> None:
        self.app.load("seance.sessions", self._loaded, group="seance", owner=self, address=self.identity)

    def _loaded(self, found: list[dict] | None, error: str | None) -> None:
        sessions = found or []
        self.sessions = sessions
        options = self.query_one("#seance-sessions", OptionList)
        options.clear_options()
        options.border_title = f"Sessions of {self.identity} ({len(sessions)})"
        for s in sessions:
            sid = s["session_id"] or "?"
            started = str(s["started_at"] or "")[:19]
            options.add_option(Option(Text(f"{started} {sid}"), id=str(sid)))
        box = self.query_one("#seance-transcript", Static)
        if error:
            box.update(Text(error, style="red"))
        elif not sessions:
            box.update(Text(f"{self.identity} has no past sessions yet", style="dim"))
        else:
            options.highlighted = 0

    @on(OptionList.OptionHighlighted, "#seance-sessions")
    def _session(self, event: OptionList.OptionHighlighted) -> None:
        self.load_transcript(event.option.id)

    def load_transcript(self, session_id: str | None) -> None:
        self.app.load("seance.transcript", self._transcript_loaded, group="seance-transcript", owner=self,
                      address=self.identity, session_id=session_id)

    def _transcript_loaded(self, text: str | None, error: str | None) -> None:
        self.lines = (text or "").splitlines()
        self._show_transcript()
        if error:
            self.query_one("#seance-transcript", Static).update(Text(error, style="red"))

    def _show_transcript(self) -> None:
        query = self.query_one("#seance-search", Input).value.strip()
        self.shown = transcript_text(self.lines, query)
        self.query_one("#seance-transcript", Static).update(self.shown)

    @on(Input.Changed, "#seance-search")
    def _search(self, _event) -> None:
        self._show_transcript()

    def action_search(self) -> None:
        self.query_one("#seance-search", Input).focus()

    def action_choose_identity(self) -> None:
        def chosen(v):
            if v:
                self.identity = v["identity"].strip()
                if self.app.controller.view:
                    self.show_town(self.app.controller.view)
                self.load()

        self.app.push_screen(FormScreen("Seance for", [Field("identity", "Agent address", self.identity or "")]),
                             chosen)

    def action_back(self) -> None:
        self.app.open_screen("town")
