"""The screens under the town's header (Needs you, Beads, Convoys, Mail, Merge queue, Seance): the header is
bound to the screen (data_bind: the screen's view, glyph mode and title), and a theme switch recolours its
state counts by itself (component classes), with nothing set on the header by hand."""
from __future__ import annotations

import json

from gastown_tui.screens.headed_screen import HeadedScreen
from widgets.town_header import TownHeader

from .helpers import make_app, open_by_key, until


def _state_colours(app, theme: str, names: tuple[str, ...]) -> set[str]:
    return {app.get_theme(theme).variables[f"state-{name}"].lower() for name in names}


async def test_a_headed_screen_binds_its_header_and_a_theme_switch_recolours_it(shared_town):
    app = make_app(shared_town)
    async with app.run_test(size=(160, 48)) as pilot:
        queue = await open_by_key(pilot, "u", "items", what="the needs-you queue")
        assert isinstance(queue, HeadedScreen)
        header = queue.query_one(TownHeader)
        # bound, not pushed: the header shows the screen's own view, glyph mode and title
        assert header.town is queue.view and header.plain == queue.plain and header.title == "Needs you"
        assert "· Needs you" in header.text.plain and "[STUCK]" not in header.text.plain  # glyphs, not words
        shown = ("stuck", "working")
        dark = _state_colours(app, "gastown-dark", shown)
        screenshot = app.export_screenshot().lower()
        assert all(colour in screenshot for colour in dark), "the header draws the dark theme's state colours"
        light = _state_colours(app, "gastown-light", shown)
        app.theme = "gastown-light"
        assert light.isdisjoint(dark)
        await until(pilot, lambda: all(colour in app.export_screenshot().lower() for colour in light),
                    what="the light theme's state colours drawn in the header")


async def test_plain_glyphs_reach_a_headed_screens_header_through_the_binding(fresh_town):
    settings = fresh_town / "settings" / "config.json"
    data = json.loads(settings.read_text()) if settings.exists() else {}
    data["app"] = {**data.get("app", {}), "glyphs": "plain"}
    settings.write_text(json.dumps(data))
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        queue = await open_by_key(pilot, "u", "items", what="the needs-you queue")
        header = queue.query_one(TownHeader)
        assert queue.plain and header.plain
        assert "[STUCK]" in header.text.plain and "[STUCK]" in str(header.render())
