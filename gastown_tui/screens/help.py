"""The help screen (`?`): every binding of every screen, with the keys in force after the keymap."""
from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from gastown_tui.ui.keys import ALL_SCOPES, DETACH, keys_in_force


def key_table(keymap: dict[str, str], prefix: str, detaches: bool = False) -> Table:
    table = Table(show_header=True, header_style="bold", expand=True, box=None, padding=(0, 1))
    table.add_column("where", style="italic", no_wrap=True)
    table.add_column("keys", style="bold", no_wrap=True)
    table.add_column("does")
    table.add_column("binding id (settings/config.json app.keymap)", style="dim", no_wrap=True)
    for scope, keys in ALL_SCOPES.items():
        for key in keys:
            if detaches and key.id == DETACH.id:
                key = DETACH
            table.add_row(scope, keys_in_force(key, keymap).replace("question_mark", "?")
                          .replace("slash", "/").replace("plus", "+"), key.description, key.id)
    table.add_row("Pane", prefix, "the next key goes to the app (e.g. " + prefix + " n = next agent)", "app.prefix_key")
    if detaches:
        table.add_row("Everywhere", "", "Stop the town (every agent and its server): the command palette's "
                      "\"Stop the town…\", or `gastown down`", "")
    table.add_row("Town", "", "an agent that left the town (✓ finished / gone) stays until you have looked at it "
                  "and moved on; d in Needs you dismisses it", "")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss(None)", "Close")]

    def __init__(self, keymap: dict[str, str], detaches: bool = False) -> None:
        super().__init__(classes="modal")
        self.keymap = keymap
        self.detaches = detaches  # ctrl+q detaches: the agents keep running in the town's server

    def compose(self) -> ComposeResult:
        self.table = key_table(self.keymap, self.app.app_settings.prefix_key, self.detaches)
        with VerticalScroll(classes="dialog wide"):
            yield Static(self.table, id="help-table")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).border_title = "Keys (escape closes; the command palette ctrl+p runs any action)"
