"""`ActionBar`: a row of big buttons for touch (the narrow layout, `gastown_tui/ui/narrow.py`)."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button


class ActionBar(Horizontal):
    """A row of big buttons, each running one action of its screen; shown only in the narrow layout.

    Hidden (a wide terminal), the bar has no buttons: they are made when it is first shown (a style sheet and
    five widgets nobody sees would cost the screen's first frame, issue 11)."""

    def __init__(self, actions: list[tuple[str, str]], *, id: str | None = None) -> None:
        super().__init__(id=id, classes="action-bar")
        self.actions = list(actions)

    def compose(self) -> ComposeResult:
        if self.app.has_class("-narrow"):
            yield from self._buttons()

    def on_show(self) -> None:
        if not self.children:
            self.mount_all(self._buttons())

    def _buttons(self) -> list[Button]:
        buttons = []
        for label, action in self.actions:
            button = Button(label, action=action if "." in action.split("(")[0] else f"screen.{action}",
                            classes="bar-button")
            button.can_focus = False  # a tap target only: the keyboard stays on the screen's table or pane
            buttons.append(button)
        return buttons

    def relabel(self, index: int, label: str) -> None:
        if 0 <= index < len(self.actions):
            self.actions[index] = (label, self.actions[index][1])  # (buttons made later take it)
        buttons = list(self.query(Button))
        if 0 <= index < len(buttons):
            buttons[index].label = label
