"""The Beads screen's table: a DataTable that says when its reader nears the last row it holds.

The screen fills it a page at a time (a town may hold 10,000 beads). When the cursor or the scroll comes
within `margin` rows of the end of what is loaded, the table posts `NearEnd`; `ctrl+end`/`end` (to the
last row) posts `EndWanted` so the screen can load every remaining row and then put the cursor on the
last one (messages up; the table does not know where rows come from).
"""
from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable


class BeadTable(DataTable):
    """Rows of beads, loaded in pages by its screen."""

    BINDINGS = [
        Binding("end", "scroll_bottom", "Last row", show=False),
        Binding("home", "scroll_top", "First row", show=False),
    ]

    @dataclass
    class NearEnd(Message):
        """The cursor or the scroll is within `margin` rows of the last loaded row."""

        table: "BeadTable"

        @property
        def control(self) -> "BeadTable":
            return self.table

    @dataclass
    class EndWanted(Message):
        """The reader asked for the last row (end / ctrl+end)."""

        table: "BeadTable"

        @property
        def control(self) -> "BeadTable":
            return self.table

    def __init__(self, *, margin: int = 50, **kwargs) -> None:
        super().__init__(**kwargs)
        self.margin = margin
        """How many rows before the end of what is loaded the table asks for more."""
        self.more = False
        """Whether the screen holds rows this table has not been given yet (set by the screen)."""

    def near_end(self) -> bool:
        if not self.more:
            return False
        if self.cursor_row is not None and self.cursor_row >= self.row_count - self.margin:
            return True
        return self.scroll_y >= self.max_scroll_y - self.margin

    def check_near_end(self) -> None:
        if self.near_end():
            self.post_message(self.NearEnd(self))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value > old_value:
            self.check_near_end()

    def action_scroll_bottom(self) -> None:
        super().action_scroll_bottom()
        if self.more:
            self.post_message(self.EndWanted(self))
