"""Welcome: there is no town here. Create one, open one, or build the demo town and open it."""
from __future__ import annotations

import asyncio
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from gastown_tui.screens.form import Field, FormScreen

INTRO = ("gastown runs a town of coding agents as a factory: work lives in a Beads ledger, agents take it from "
         "their hooks, polecats commit in git worktrees, the Refinery merges.\n\n"
         "There is no town here (no mayor/town.json in this folder or above, and GT_TOWN is not set).")


class WelcomeScreen(Screen):
    BINDINGS = [("escape", "app.quit", "Quit")]

    def compose(self) -> ComposeResult:
        with Vertical(id="welcome"):
            yield Static(Text("gastown", style="bold"), id="welcome-title")
            yield Static(INTRO, id="welcome-intro")
            yield OptionList(
                Option("Create a town", id="create"),
                Option("Open a town", id="open"),
                Option("Run the demo (a town with a sample project and simulated agents)", id="demo"),
                id="welcome-choices")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        # deferred on purpose: the town's domain loads only when there is a town to make or open
        from gastown_tui.server.api import build_demo, create_town, open_town

        here = str(Path.cwd())
        if event.option.id == "create":
            self.app.push_screen(FormScreen("Create a town", [Field("path", "Folder", str(Path(here) / "town")),
                                                              Field("name", "Name", required=False)]),
                                 lambda v: v and self._run(create_town, v["path"], v["name"]))
        elif event.option.id == "open":
            self.app.push_screen(FormScreen("Open a town", [Field("path", "Folder (or any folder inside it)", here)]),
                                 lambda v: v and self._run(open_town, v["path"]))
        elif event.option.id == "demo":
            self.app.push_screen(FormScreen("Run the demo", [Field("path", "Folder for the demo town",
                                                                   str(Path(here) / "gastown-demo"))]),
                                 lambda v: v and self._run(build_demo, v["path"]))

    def _run(self, fn, *args) -> None:
        """Makes or opens the town in a thread (a demo's build takes seconds), then opens it, on the loop."""

        async def job() -> None:
            try:
                root = await asyncio.to_thread(fn, *args)
            except Exception as exc:  # a bad folder or a failed build: said, never lost
                self.notify(str(exc), title="Cannot open a town", severity="error", timeout=10)
            else:
                self.app.open_town(root)

        self.run_worker(job(), group="welcome", exit_on_error=False, description="making or opening a town")
