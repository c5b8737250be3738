"""The centre of the Town screen: one live agent pane, or a grid of several.

Layouts show 1, 2, 4, 6 or 9 panes: the page of agents (in tree order) that
holds the focused one, whose slot is highlighted. The grid does not know how a pane is made: the screen
passes `make_pane(agent)` (attributes down). Clicking a slot posts
`PaneGrid.SlotClicked` so the screen can focus that agent (messages up).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from textual import events
from textual.containers import Container
from textual.message import Message
from textual.widget import Widget

from widgets.glyphs import glyph, label
from widgets.view_models import AgentView

LAYOUTS = (1, 2, 4, 6, 9)
GRID_SIZE = {1: (1, 1), 2: (2, 1), 4: (2, 2), 6: (3, 2), 9: (3, 3)}


class PaneSlot(Container):
    """One agent's pane with a title bar (number, glyph, address, state)."""

    def __init__(self, agent: AgentView, content: Widget, number: int, plain: bool) -> None:
        super().__init__(classes="pane-slot")
        self.agent = agent
        self.content = content
        self.number = number
        self.plain = plain
        self._set_title()

    def _set_title(self) -> None:
        a = self.agent
        self.border_title = f"{self.number} {glyph(a.state, self.plain)} {a.address}"
        self.border_subtitle = label(a.state) + (f" · {a.hook_id}" if a.hook_id else "")

    def update_agent(self, agent: AgentView, number: int) -> None:
        self.agent, self.number = agent, number
        self._set_title()

    def compose(self):
        yield self.content

    def on_click(self, event: events.Click) -> None:
        self.post_message(PaneGrid.SlotClicked(self.agent.address))


class PaneGrid(Container):
    """Shows the panes of the agents given to it, in a 1/2/4/6/9 grid."""

    @dataclass
    class SlotClicked(Message):
        address: str

    def __init__(self, make_pane: Callable[[AgentView], Widget], **kwargs) -> None:
        super().__init__(**kwargs)
        self.make_pane = make_pane
        self.layout_size = 1
        self.plain = False
        self._shown: tuple[str, ...] = ()
        self._slots: dict[str, PaneSlot] = {}

    def reset(self) -> None:
        """Forget the shown slots: the next `show` makes fresh panes (e.g. a session started)."""
        self._shown = ()

    def slot(self, address: str) -> PaneSlot | None:
        return self._slots.get(address)

    def visible_addresses(self) -> tuple[str, ...]:
        return self._shown

    def show(self, ordered: list[AgentView], focused: str | None, numbers: dict[str, int]) -> None:
        """Shows the page of `layout_size` panes (in tree order) that holds the focused agent."""
        if not ordered:
            self._replace(())
            return
        addresses = [a.address for a in ordered]
        index = addresses.index(focused) if focused in addresses else 0
        page = index // self.layout_size
        chosen = ordered[page * self.layout_size:(page + 1) * self.layout_size]
        count = len(chosen)
        cols, rows = GRID_SIZE[self.layout_size]
        if count < self.layout_size:  # fewer agents than slots: shrink the grid to what is shown
            cols = min(cols, count)
            rows = -(-count // cols)
        self.styles.grid_size_columns = cols
        self.styles.grid_size_rows = rows
        self._replace(tuple(chosen), numbers)
        for slot in self._slots.values():
            slot.set_class(slot.agent.address == focused, "-focused")

    def _replace(self, chosen: tuple[AgentView, ...], numbers: dict[str, int] | None = None) -> None:
        numbers = numbers or {}
        wanted = tuple(a.address for a in chosen)
        if wanted == self._shown:
            for agent in chosen:
                self._slots[agent.address].update_agent(agent, numbers.get(agent.address, 0))
            return
        self.remove_children()
        self._slots = {
            a.address: PaneSlot(a, self.make_pane(a), numbers.get(a.address, 0), self.plain) for a in chosen
        }
        self._shown = wanted
        if self._slots:
            self.mount(*self._slots.values())

