"""A real agent session in the centre pane: start it from the app, type into it, see the echo,
and hand a key to the app with the prefix (ctrl+b)."""
from __future__ import annotations

import pytest

from .helpers import make_app, town_loaded, until


def pane_text(pane) -> str:
    return "\n".join("".join(seg.text for seg in pane.render_line(y)) for y in range(pane.size.height))


@pytest.mark.slow
async def test_type_into_a_focused_pane_and_the_prefix_key_reaches_the_app(fresh_town):
    app = make_app(fresh_town, start_agents=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await until(pilot, lambda: app.controller.runtime is not None, what="the session manager")
        await pilot.press("s")  # start the mayor's session (the simulated agent)
        grid = app.screen.query_one("#panes")
        await until(pilot, lambda: type(grid.slot("mayor/").content).__name__ == "TerminalPane",
                    what="the mayor's live pane")
        pane = grid.slot("mayor/").content
        await until(pilot, lambda: "SIMULATED" in pane_text(pane), timeout=20, what="the agent's banner in the pane")
        await pilot.press("enter")  # type into the pane
        assert app.focused is pane
        await pilot.press(*"hello", "space", *"town")
        await until(pilot, lambda: "hello town" in pane_text(pane), what="the echo of what was typed")
        assert "hello town" in app.controller.sessions.get("mayor/").screen.text()
        await pilot.press("n")  # a plain key goes to the agent, not the app
        await pilot.pause(0.2)
        assert app.screen.focused_agent == "mayor/"
        await pilot.press("ctrl+b", "d")  # the prefix hands the next key to the app: leave the pane
        await until(pilot, lambda: app.focused is app.screen.query_one("#agents"), what="focus back on the tree")
        await pilot.press("enter")
        assert app.focused is pane
        await pilot.press("ctrl+b", "n")  # next agent, from inside the pane
        await until(pilot, lambda: app.screen.focused_agent == "deacon/", what="the prefix key to reach the app")
        # the deacon has no session: the keyboard goes back to the tree, not into a dead pane
        await until(pilot, lambda: app.focused is app.screen.query_one("#agents"), what="focus on the tree")
