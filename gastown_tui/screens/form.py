"""One small modal form for every action that needs input (nudge text, sling target, notes, mail...).

`FormScreen(title, [Field(...)])` dismisses with `{name: value}` or None when
cancelled. Enter in the last one-line field submits; ctrl+s submits from
anywhere (multi-line fields need it); escape cancels. Required fields left
empty, and values a field's `check` refuses, are named in an error line and
nothing is submitted: the form stays open with everything typed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static, TextArea


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    value: str = ""
    multiline: bool = False
    required: bool = True
    placeholder: str = ""
    check: Callable[[str], str | None] | None = None  # value -> what is wrong with it, or None


class FormScreen(ModalScreen[dict | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"), Binding("ctrl+s", "submit", "Submit")]

    def __init__(self, title: str, fields: list[Field], submit_label: str = "ctrl+s or enter to submit") -> None:
        super().__init__(classes="modal")
        self.form_title = title
        self.fields = fields
        self.submit_label = submit_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            for field in self.fields:
                yield Label(field.label)
                if field.multiline:
                    yield TextArea(field.value, id=f"field-{field.name}", classes="form-text")
                else:
                    yield Input(field.value, placeholder=field.placeholder, id=f"field-{field.name}")
            yield Static("", id="form-error")
            yield Static(self.submit_label + " · escape to cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Vertical).border_title = self.form_title

    def values(self) -> dict[str, str]:
        out = {}
        for field in self.fields:
            widget = self.query_one(f"#field-{field.name}")
            out[field.name] = widget.text if isinstance(widget, TextArea) else widget.value
        return out

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        last_line = [f for f in self.fields if not f.multiline][-1]
        if event.input.id == f"field-{last_line.name}":
            self.action_submit()
        else:
            self.focus_next()

    def action_submit(self) -> None:
        values = self.values()
        missing = [f.label for f in self.fields if f.required and not values[f.name].strip()]
        if missing:
            self.query_one("#form-error", Static).update(f"required: {', '.join(missing)}")
            return
        wrong = [f"{f.label}: {problem}" for f in self.fields
                 if f.check is not None and values[f.name].strip() and (problem := f.check(values[f.name]))]
        if wrong:
            self.query_one("#form-error", Static).update("; ".join(wrong))
            return
        self.dismiss(values)
