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
from textual.reactive import var
from textual.widget import Widget

from widgets.glyphs import glyph, label
from widgets.view_models import AgentView

LAYOUTS = (1, 2, 4, 6, 9)
GRID_SIZE = {1: (1, 1), 2: (2, 1), 4: (2, 2), 6: (3, 2), 9: (3, 3)}


class PaneSlot(Container):
    """One agent's pane with a title bar (number, glyph, address, state).

    A slot keeps at most two widgets mounted: the one it shows (`content`) and a hidden `spare` of
    another kind (a live terminal pane parked while the slot shows the "no live session" text, or the
    other way round). Switching between a live agent and one without a session then shows the spare
    instead of mounting a new widget.
    """

    def __init__(self, agent: AgentView, content: Widget, number: int, plain: bool,
                 spare: Widget | None = None) -> None:
        super().__init__(classes="pane-slot")
        self.agent = agent
        self.content = content
        self.spare = spare
        self.number = number
        self.plain = plain
        self._set_title()

    def _set_title(self) -> None:
        a = self.agent
        title = f"{self.number} {glyph(a.state, self.plain)} {a.address}"
        subtitle = (f"{a.ghost}, {label(a.state)}" if a.ghost else label(a.state)) + (f" · {a.hook_id}" if a.hook_id else "")
        if title != self.border_title:
            self.border_title = title
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle

    def update_agent(self, agent: AgentView, number: int) -> None:
        self.agent, self.number = agent, number
        self._set_title()

    def candidates(self) -> list[Widget]:
        """The widgets this slot holds (shown first), for the grid's `retarget` to choose from."""
        return [self.content] + ([self.spare] if self.spare is not None else [])

    def swap_content(self, content: Widget) -> None:
        """Shows `content`: the spare is shown again (no mount); a new widget is mounted once and the
        one it replaces is kept hidden as the spare."""
        if content is self.content:
            return
        old = self.content
        if content is self.spare:
            self.spare, self.content = old, content
            old.display = False
            content.display = True
            return
        if self.spare is not None:  # a third kind of widget: the older spare goes
            self.spare.remove()
        self.spare, self.content = old, content
        old.display = False
        self.mount(content, before=old)

    def compose(self):
        yield self.content
        if self.spare is not None:
            self.spare.display = False
            yield self.spare

    def on_click(self, event: events.Click) -> None:
        self.post_message(PaneGrid.SlotClicked(self.agent.address))


class PaneGrid(Container):
    """Shows the panes of the agents given to it, in a 1/2/4/6/9 grid."""

    plain: var[bool] = var(False)
    """Plain glyphs (words, no symbols; settings `app.glyphs`); the Town screen binds it (data_bind)."""

    @dataclass
    class SlotClicked(Message):
        address: str

    def __init__(self, make_pane: Callable[[AgentView], Widget],
                 retarget: Callable[[list[Widget], AgentView], Widget] | None = None,
                 make_spare: Callable[[Widget, AgentView], Widget | None] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.make_pane = make_pane
        # (the slot's widgets, shown first; agent) -> one of them pointed at the agent, or a new widget
        self.retarget = retarget
        # (a slot's new content, its agent) -> a hidden widget of the other kind, mounted with it, or None
        self.make_spare = make_spare
        self.layout_size = 1
        self._shown: tuple[str, ...] = ()
        self._slots: dict[str, PaneSlot] = {}

    def compose(self):
        # `show` called before the grid was mounted (the Town screen made with its town already read): its slots
        # are made with the grid, so the screen's first frame shows the panes
        yield from self._slots.values()

    def reset(self) -> None:
        """The next `show` re-points every slot at its agent (e.g. a session started or stopped)."""
        self._shown = ()
        self._force = True

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
        old_slots = list(self._slots.values())
        if self.retarget is not None and len(old_slots) == len(chosen) and all(s.is_mounted for s in old_slots):
            # same number of slots: point the existing panes at the new agents (no remount, no layout pass)
            self._slots = {}
            force, self._force = getattr(self, "_force", False), False
            for slot, agent in zip(old_slots, chosen):
                if force or slot.agent.address != agent.address:
                    slot.swap_content(self.retarget(slot.candidates(), agent))
                slot.update_agent(agent, numbers.get(agent.address, 0))
                self._slots[agent.address] = slot
            self._shown = wanted
            return
        if not self.is_mounted:  # (composed with the grid)
            self._slots = {a.address: self._new_slot(a, numbers.get(a.address, 0)) for a in chosen}
            self._shown = wanted
            return
        self.remove_children()
        self._slots = {a.address: self._new_slot(a, numbers.get(a.address, 0)) for a in chosen}
        self._shown = wanted
        if self._slots:
            self.mount(*self._slots.values())

    def _new_slot(self, agent: AgentView, number: int) -> PaneSlot:
        content = self.make_pane(agent)
        spare = self.make_spare(content, agent) if self.make_spare is not None else None
        return PaneSlot(agent, content, number, self.plain, spare)
