"""Helpers for the app tests: build the fixed test town, make an app with a frozen clock, wait on the app."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from gastown_tui.screens.form import FormScreen

HERE = Path(__file__).resolve().parent
# The builder's clock starts at 2026-01-02T03:04:05Z; the app's frozen "now" is ten minutes later,
# so every agent shows the same time in state in the snapshots.
FROZEN_NOW = datetime(2026, 1, 2, 3, 14, 5, tzinfo=timezone.utc)


def frozen_clock() -> datetime:
    return FROZEN_NOW


def build_town(dest: Path) -> Path:
    env = dict(os.environ, GIT_AUTHOR_DATE="2026-01-02T03:04:05Z", GIT_COMMITTER_DATE="2026-01-02T03:04:05Z")
    out = subprocess.run([sys.executable, str(HERE / "town_builder.py"), str(dest)], capture_output=True,
                         text=True, env=env)
    assert out.returncode == 0, f"the test town could not be built:\n{out.stderr[-3000:]}"
    return Path(out.stdout.strip().splitlines()[-1])


def make_app(root: Path | None, **kwargs):
    from gastown_tui.app import GastownApp

    kwargs.setdefault("start_agents", False)
    kwargs.setdefault("clock", frozen_clock)
    return GastownApp(root, **kwargs)


async def until(pilot, condition, timeout: float = 10.0, what: str = "condition") -> None:
    """Lets the app run until `condition()` holds; fails naming `what` after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await pilot.pause(0.05)
    await pilot.pause()


async def until_screen(pilot, screen_type: type, what: str, timeout: float = 10.0) -> None:
    """Lets the app run until its current screen is a `screen_type` (the class itself, so a renamed
    screen fails here on import, not as a timeout); fails naming `what` after `timeout` seconds."""
    await until(pilot, lambda: isinstance(pilot.app.screen, screen_type), timeout=timeout, what=what)


async def palette_run(pilot, text: str, timeout: float = 20.0) -> None:
    """Opens the command palette, types `text` and runs the best match once the palette has finished
    searching (on a loaded machine its providers can take longer than any fixed pause)."""
    from textual.command import CommandList, CommandPalette

    app = pilot.app
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
    await pilot.press(*text)

    def settled() -> bool:
        palette = app.screen
        if not isinstance(palette, CommandPalette):
            return False
        searching = any(w.group == CommandPalette._GATHER_COMMANDS_GROUP and not w.is_finished
                        for w in app.workers)
        hits = palette.query_one(CommandList)
        return not searching and hits.option_count > 0 and hits.highlighted is not None

    await until(pilot, settled, timeout=timeout, what=f"the palette's matches for {text!r}")
    await pilot.pause(0.1)
    await until(pilot, settled, timeout=timeout, what=f"the palette's matches for {text!r}")
    await pilot.press("enter")


async def town_loaded(pilot) -> None:
    app = pilot.app
    await until(pilot, lambda: app.controller is not None and app.controller.view is not None
                and getattr(app.screen, "view", None) is not None, what="the town view")


async def open_by_key(pilot, key: str, ready: str, what: str):
    """The town loaded, `key` pressed: returns the screen it opened once its `ready` attribute is filled."""
    await town_loaded(pilot)
    await pilot.press(key)
    await until(pilot, lambda: getattr(pilot.app.screen, ready, None), what=what)
    return pilot.app.screen


async def fill_form(pilot, *values: str, closes: bool = True) -> None:
    """Types each value into the form's fields in order (replacing what is there), then submits
    (and waits for the form to close, unless `closes` is False)."""
    app = pilot.app
    await until_screen(pilot, FormScreen, what="the form")
    form = app.screen
    for field, value in zip(form.fields, values):
        widget = form.query_one(f"#field-{field.name}")
        if hasattr(widget, "load_text"):
            widget.load_text(value)
        else:
            widget.value = value
    await pilot.press("ctrl+s")
    if closes:
        await until(pilot, lambda: app.screen is not form, what="the form to close")
