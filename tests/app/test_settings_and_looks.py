"""Keys rebound from settings/config.json, bad settings reported by file, themes (built-in, the town's own,
a broken one), plain-text glyphs, and the notices the Overseer gets."""
from __future__ import annotations

import json
from dataclasses import replace

from rich.style import Style

from gastown_tui.screens.help import HelpScreen
from gastown_tui.ui.notices import notices
from gastown_tui.ui.themes import load_themes
from widgets.agent_tree import AgentTree
from widgets.glyphs import STATES, glyph
from widgets.town_header import TownHeader
from widgets.view_models import AgentView, ConvoyView, MRView, TownView, TrackedView

from .helpers import make_app, palette_run, town_loaded, until, until_screen


def write_settings(root, app_section: dict) -> None:
    path = root / "settings" / "config.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data["app"] = app_section
    path.write_text(json.dumps(data))


async def test_a_rebound_key_works_and_the_help_screen_shows_it(fresh_town):
    write_settings(fresh_town, {"keymap": {"town.next_agent": "j"}})
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await pilot.press("n")  # no longer bound
        assert app.screen.focused_agent == "mayor/"
        await pilot.press("j")
        assert app.screen.focused_agent == "deacon/"
        await pilot.press("question_mark")
        await until_screen(pilot, HelpScreen, what="help")
        table = app.screen.table
        rows = [cells for cells in zip(*[[str(c) for c in col._cells] for col in table.columns])]
        assert ("Town", "j", "Next agent", "town.next_agent") in rows


async def test_bad_settings_are_reported_with_the_file_and_the_rest_applies(fresh_town):
    write_settings(fresh_town, {"keymap": {"town.nxt_agent": "j"}, "glyphs": "plain", "bell": "loud"})
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        messages = [n.message for n in app._notifications]
        path = str(fresh_town / "settings" / "config.json")
        assert any(path in m and "town.nxt_agent" in m and "town.next_agent" in m for m in messages), messages
        assert any("app.bell must be true or false" in m for m in messages), messages
        # the valid part of the file still applies: plain glyphs in the tree
        label = str(app.screen.query_one("#agents")._agent_nodes["alpha/polecats/nux"].label)
        assert "[STUCK]" in label


def test_glyphs_have_plain_fallbacks():
    for state in STATES:
        assert glyph(state) != glyph(state, plain=True)
        assert glyph(state, plain=True).isascii()


def test_themes_load_and_a_broken_town_theme_is_reported(tmp_path):
    themes = tmp_path / "settings" / "themes"
    themes.mkdir(parents=True)
    (themes / "sunset.toml").write_text('name = "sunset"\nprimary = "#ff8800"\n[states]\nstuck = "#ff0000"\n')
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "not-a-colour"\n')
    loaded = load_themes(tmp_path)
    names = [t.name for t in loaded.themes]
    assert {"gastown-dark", "gastown-light", "gastown-high-contrast", "sunset"} <= set(names)
    sunset = next(t for t in loaded.themes if t.name == "sunset")
    assert sunset.variables["state-stuck"] == "#ff0000"
    assert sunset.variables["role-polecat"]  # taken from the default theme
    [error] = loaded.errors
    assert "broken.toml" in error and "primary" in error and "not-a-colour" in error


async def test_switch_theme_from_the_palette(shared_town):
    app = make_app(shared_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        assert app.theme == "gastown-dark"
        await palette_run(pilot, "theme: gastown-light")
        await until(pilot, lambda: app.theme == "gastown-light", what="the light theme")


def _label_colours(app) -> set[str]:
    """The state and role colours in the agent list's lines and the header's counts, as they are drawn."""
    tree = app.screen.query_one(AgentTree)
    texts = [tree.render_label(node, Style(), Style()) for node in tree._agent_nodes.values()]
    texts.append(app.screen.query_one(TownHeader).text)
    return {span.style.color.triplet.hex for text in texts for span in text.spans
            if isinstance(span.style, Style) and span.style.color is not None and span.style.color.triplet}


def _theme_colours(app) -> set[str]:
    return {value.lower() for name, value in app.theme_variables.items() if name.startswith(("state-", "role-"))}


async def test_a_theme_switch_recolours_the_agent_list_and_the_header_by_itself(shared_town):
    """Nothing redraws them by hand: the widgets take the new theme's colours when their styles change."""
    app = make_app(shared_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        dark = _label_colours(app)
        assert dark and dark <= _theme_colours(app)
        app.theme = "gastown-light"
        await until(pilot, lambda: _label_colours(app) and _label_colours(app) <= _theme_colours(app),
                    what="the light theme's colours in the labels")
        assert _label_colours(app) != dark


def _town(**changes) -> TownView:
    agent = AgentView("alpha/polecats/nux", "polecat", "alpha", "nux", "working")
    convoy = ConvoyView("hq-cv-1", "Ship it", "open", (TrackedView("al-1", "a", "closed"), TrackedView("al-2", "b", "open")))
    mr = MRView("al-9", "alpha", "nux", "al-1", "Merge: al-1", 1, "testing")
    view = TownView("t", "/t", agents=[agent], convoys=[convoy], mrs=[mr])
    for key, value in changes.items():
        setattr(view, key, value)
    return view


def test_notices_for_landing_approval_and_failed_merges():
    old = _town()
    new = _town(agents=[replace(old.agents[0], state="needs_approval")],
                convoys=[replace(old.convoys[0], tracked=(TrackedView("al-1", "a", "closed"),
                                                         TrackedView("al-2", "b", "closed")))],
                mrs=[replace(old.mrs[0], state="failed")])
    titles = [n.title for n in notices(old, new)]
    assert titles == ["Convoy landed", "Needs approval", "Merge failed"]
    assert notices(new, new) == []  # nothing new, nothing said twice
    assert notices(None, new) == []  # no toasts for what was already so at start-up
