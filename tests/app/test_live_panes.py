"""A real agent session in the centre pane: start it from the app, type into it, see the echo,
and hand a key to the app with the prefix (ctrl+b)."""
from __future__ import annotations

import pytest

from gastown_tui.screens.form import FormScreen
from gastown_tui.screens.seance import SeanceScreen
from textual.command import CommandPalette
from widgets.terminal_pane import TerminalPane

from .helpers import make_app, palette_run, town_loaded, until, until_screen


def pane_text(pane) -> str:
    return "\n".join("".join(seg.text for seg in pane.render_line(y)) for y in range(pane.size.height))


@pytest.mark.slow
async def test_type_into_a_focused_pane_and_the_prefix_key_reaches_the_app(fresh_town):
    app = make_app(fresh_town, start_agents=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await until(pilot, lambda: app.controller.sessions is not None, what="the session manager")
        # choose the mayor (the centre would otherwise follow the first polecat GUPP starts) and start its
        # session (the simulated agent)
        await pilot.press("1", "s")
        grid = app.screen.query_one("#panes")
        await until(pilot, lambda: isinstance(grid.slot("mayor/").content, TerminalPane),
                    what="the mayor's live pane")
        pane = grid.slot("mayor/").content
        await until(pilot, lambda: "SIMULATED" in pane_text(pane), timeout=20, what="the agent's banner in the pane")
        await pilot.press("enter")  # type into the pane
        assert app.focused is pane
        await pilot.press(*"hello", "space", *"town")
        await until(pilot, lambda: "hello town" in pane_text(pane), what="the echo of what was typed")
        assert "hello town" in app.controller.sessions.get("mayor/").screen.text()
        await pilot.press("n")  # a plain key goes to the agent, not the app
        await until(pilot, lambda: "hello townn" in pane_text(pane), what="the agent's echo of n")
        assert app.screen.focused_agent == "mayor/"
        # ctrl+p (palette) and ctrl+q (quit) belong to the agent while its pane has the keyboard
        # (a plain key after it shows when ctrl+p has been dealt with: the agent echoes it, or the palette took it)
        await pilot.press("ctrl+p", "x")
        await until(pilot, lambda: "hello townnx" in pane_text(pane) or isinstance(app.screen, CommandPalette),
                    what="the key typed after ctrl+p")
        assert not isinstance(app.screen, CommandPalette) and app.focused is pane
        await pilot.press("ctrl+b", "ctrl+p")  # ... and reach the app after the prefix
        await until_screen(pilot, CommandPalette, what="the palette via the prefix")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, CommandPalette), what="the palette closed")
        if app.focused is not pane:
            await pilot.press("enter")
        assert app.focused is pane
        await pilot.press("enter")  # submit the line: the agent acknowledges it (and its transcript is written)
        await pilot.press("ctrl+b", "d")  # the prefix hands the next key to the app: leave the pane
        await until(pilot, lambda: app.focused is app.screen.query_one("#agents"), what="focus back on the tree")
        await pilot.press("enter")
        assert app.focused is pane
        await pilot.press("ctrl+b", "n")  # next agent, from inside the pane
        await until(pilot, lambda: app.screen.focused_agent == "deacon/", what="the prefix key to reach the app")
        # the deacon has no session: the keyboard goes back to the tree, not into a dead pane
        await until(pilot, lambda: app.focused is app.screen.query_one("#agents"), what="focus on the tree")
        # stop the mayor from the palette; its transcript stays on disk: Seance shows it and finds what was typed
        await pilot.press("1")
        assert app.screen.focused_agent == "mayor/"
        await palette_run(pilot, "stop agent")
        await until_screen(pilot, FormScreen, what="the stop form")
        assert app.screen.query_one("#field-agent").value == "mayor/"
        await pilot.press("ctrl+s")
        session = app.controller.sessions.get("mayor/")
        await until(pilot, lambda: session.exit_status is not None, timeout=20, what="the mayor's session to stop")
        await pilot.press("S")
        await until(pilot, lambda: isinstance(app.screen, SeanceScreen) and app.screen.sessions,
                    timeout=20, what="the mayor's sessions in Seance")
        seance = app.screen
        await until(pilot, lambda: any("hello town" in line for line in seance.lines), timeout=20,
                    what="the typed text in the transcript")
        await pilot.press("slash", *"hello")
        def only_matches() -> bool:
            shown = seance.shown.plain.splitlines()
            return 0 < len(shown) < len(seance.lines) and all("hello" in line.lower() for line in shown)

        await until(pilot, only_matches, what="the search to keep only matching lines")
        assert "hello town" in seance.shown.plain
