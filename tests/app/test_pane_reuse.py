"""Switching between an agent with a live session and one without mounts nothing: the centre slot keeps its
live pane and its "no live session" placeholder mounted and shows one of them (the slowest key used to be
this switch, which remounted a widget)."""
from __future__ import annotations

import pytest

from widgets.no_session_pane import NoSessionPane

from .helpers import make_app, until
from .test_launch_focus_and_finished import NUX, SLIT, is_live, patrols_off, started
from .test_live_panes import pane_text


@pytest.mark.slow
async def test_switching_to_and_from_an_agent_without_a_session_remounts_nothing(fresh_town):
    patrols_off(fresh_town)
    app = make_app(fresh_town, start_agents=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await started(pilot)
        screen = app.screen
        app.agent_lifecycle("start", NUX)
        await until(pilot, lambda: is_live(app, NUX) and screen.focused_agent == NUX, timeout=20,
                    what="nux's session in the centre")
        grid = screen.query_one("#panes")
        slot = grid.slot(NUX)
        live = slot.content
        await until(pilot, lambda: "SIMULATED" in pane_text(live), timeout=20, what="nux's screen in the pane")
        children = list(slot.children)
        assert len(children) == 2  # the live pane and the hidden placeholder, both mounted from the start

        mounted = []
        original = slot.mount

        def counting_mount(*widgets, **kwargs):
            mounted.extend(widgets)
            return original(*widgets, **kwargs)

        slot.mount = counting_mount
        try:
            for _ in range(2):
                await pilot.press("g", *"slit", "enter")
                await until(pilot, lambda: screen.focused_agent == SLIT, what="slit in the centre")
                await pilot.pause()
                assert grid.slot(SLIT) is slot and list(slot.children) == children
                shown = [w for w in slot.children if w.display]
                assert len(shown) == 1 and isinstance(shown[0], NoSessionPane) and slot.content is shown[0]
                assert "no live session" in str(shown[0].render()) and SLIT in str(shown[0].render())
                assert live.session is None  # the parked pane let go of nux's session (it draws nothing)

                await pilot.press("g", *"nux", "enter")
                await until(pilot, lambda: screen.focused_agent == NUX, what="nux in the centre again")
                await pilot.pause()
                assert list(slot.children) == children and slot.content is live and live.display
                assert live.session is app.controller.sessions.get(NUX)
                await until(pilot, lambda: "SIMULATED" in pane_text(live), timeout=10,
                            what="nux's screen drawn again in the same pane")
        finally:
            del slot.mount
        assert mounted == []
