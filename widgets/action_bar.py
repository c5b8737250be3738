"""`ActionBar`: a row of big buttons for touch (the narrow layout, `gastown_tui/ui/narrow.py`)."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button


class ActionBar(Horizontal):
    """A row of big buttons, each running one action of its screen; shown only in the narrow layout."""

    def __init__(self, actions: list[tuple[str, str]], *, id: str | None = None) -> None:
        super().__init__(id=id, classes="action-bar")
        self.actions = actions

    def compose(self) -> ComposeResult:
        for label, action in self.actions:
            button = Button(label, action=action if "." in action.split("(")[0] else f"screen.{action}",
                            classes="bar-button")
            button.can_focus = False  # a tap target only: the keyboard stays on the screen's table or pane
            yield button

    def relabel(self, index: int, label: str) -> None:
        buttons = list(self.query(Button))
        if 0 <= index < len(buttons):
            buttons[index].label = label
