"""The small-screen layout (a phone in a browser, or a narrow terminal): below NARROW_COLUMNS.

The app carries the class `-narrow` while it is narrower than NARROW_COLUMNS
(`apply`, called on every resize); themes/app.tcss does the rest: the Town
screen shows one agent pane at a time and swaps it for the agent list with one
tap, and each screen with actions shows an `ActionBar` of big buttons (touch
targets, never hover-only) instead of relying on keys alone.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button

NARROW_COLUMNS = 100


def apply(app, width: int) -> None:
    """Sets or clears the app's `-narrow` class for a terminal `width` columns wide."""
    app.set_class(width < NARROW_COLUMNS, "-narrow")


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
