"""Fuzzy go-to: type part of an agent's name or address (or its number), Enter jumps there."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from widgets.glyphs import glyph
from widgets.view_models import AgentView


def rank(agents: list[AgentView], query: str) -> list[tuple[int, AgentView]]:
    """(number, agent) pairs matching `query`, best first; a bare number matches that agent."""
    numbered = list(enumerate(agents, start=1))
    query = query.strip()
    if not query:
        return numbered
    if query.isdigit():
        return [(n, a) for n, a in numbered if str(n).startswith(query)]
    matcher = Matcher(query)
    scored = [(matcher.match(a.address), n, a) for n, a in numbered]
    return [(n, a) for score, n, a in sorted(scored, key=lambda t: (-t[0], t[1])) if score > 0]


class GoToScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"), Binding("down", "cursor(1)", show=False),
                Binding("up", "cursor(-1)", show=False)]

    def __init__(self, agents: list[AgentView], plain: bool = False) -> None:
        super().__init__(classes="modal")
        self.agents = agents
        self.plain = plain

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Input(placeholder="go to agent: name, address or number", id="goto-input")
            yield OptionList(id="goto-list")
            yield Static("type to filter · up/down to choose · enter goes there · escape cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Vertical).border_title = "Go to agent"
        self._fill("")

    def _fill(self, query: str) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        for number, agent in rank(self.agents, query):
            text = Text(f"{number:>2} {glyph(agent.state, self.plain)} {agent.address}")
            if agent.hook_id:
                text.append(f"  {agent.hook_id}", style="dim")
            options.add_option(Option(text, id=agent.address))
        if options.option_count:
            options.highlighted = 0

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            self.notify(f"no agent matches {event.value!r}", severity="warning")
            return
        self.dismiss(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cursor(self, delta: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, current + delta))
