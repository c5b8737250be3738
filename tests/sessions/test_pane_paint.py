"""The pane paints what a person is waiting for at once, not at the screen's next update tick.

Textual paints on a fixed 60 Hz grid; a key press that lands just after a tick would otherwise wait
for the next one (and longer when the process is descheduled). These tests stop that tick
altogether, so anything painted was painted by the pane's own immediate paint."""
from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from gastown_tui.sessions.session import Session, SessionSpec
from widgets import terminal_pane
from widgets.terminal_pane import TerminalPane


@pytest.fixture(autouse=True)
def _session_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # transcripts of town-less sessions go under TMPDIR


def spec(name: str, argv: list[str]) -> SessionSpec:
    return SessionSpec(agent=f"testrig/crew/{name}", preset="shell", cwd=Path(os.getcwd()), argv=argv,
                       cols=60, rows=12)


class TwoSessionApp(App):
    def compose(self) -> ComposeResult:
        yield TerminalPane(id="pane")

    async def on_mount(self) -> None:
        self.first = Session(spec("first", ["cat"]))
        self.second = Session(spec("second", ["sh", "-c", "echo SECOND-SCREEN; exec cat"]))
        await self.first.start()
        await self.second.start()
        pane = self.query_one(TerminalPane)
        pane.session = self.first
        pane.focus()

    async def on_unmount(self) -> None:
        await self.first.stop(grace=0.5)
        await self.second.stop(grace=0.5)


def stop_update_tick(app: App) -> None:
    """Textual's own paint tick for the current screen never fires again (a paused timer stays paused)."""
    timer = app.screen._update_timer
    timer.pause()
    timer.resume = lambda: None


def record_painted(pane: TerminalPane) -> list[str]:
    """Rows of the pane the compositor asks for (it asks only when painting) are collected."""
    painted: list[str] = []
    render_line = pane.render_line

    def recording(y: int):
        strip = render_line(y)
        painted.append(strip.text)
        return strip

    pane.render_line = recording
    return painted


async def wait_until(predicate, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        await asyncio.sleep(0.02)  # not pilot.pause(): that paints the screen itself
    return predicate()


async def test_the_echo_of_a_typed_key_is_painted_without_the_screen_tick(monkeypatch):
    # the echo path lasts HOT_POLL_SECONDS after a key; a loaded CI machine may take longer to echo
    monkeypatch.setattr(terminal_pane, "HOT_POLL_SECONDS", 10.0)
    app = TwoSessionApp()
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause(0.2)
        pane = app.query_one(TerminalPane)
        stop_update_tick(app)
        painted = record_painted(pane)
        await pilot.press(*"echo1")
        assert await wait_until(lambda: any("echo1" in row for row in painted)), painted[-12:]


async def test_switching_the_pane_to_another_session_is_painted_without_the_screen_tick():
    app = TwoSessionApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(TerminalPane)
        assert await wait_until(lambda: "SECOND-SCREEN" in app.second.screen.text())
        await pilot.pause(0.1)
        stop_update_tick(app)
        painted = record_painted(pane)
        assert not any("SECOND-SCREEN" in row for row in painted)
        pane.session = app.second
        assert await wait_until(lambda: any("SECOND-SCREEN" in row for row in painted)), painted[-12:]
