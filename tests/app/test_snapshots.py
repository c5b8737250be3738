"""Snapshots of every screen on the fixed test town, at 160x48 and 100x30.

Each test also asserts something a user would see, so a snapshot that drifts
into showing an empty or wrong screen fails even before the SVG comparison.
Update with `pytest tests/app --snapshot-update` after looking at the report.
"""
from __future__ import annotations

import pytest

from gastown_tui.screens.convoys import ConvoysScreen
from gastown_tui.screens.help import HelpScreen
from gastown_tui.screens.needs_you import NeedsYouScreen
from gastown_tui.screens.seance import SeanceScreen
from gastown_tui.screens.welcome import WelcomeScreen

from .helpers import make_app, town_loaded, until, until_screen

SIZES = [pytest.param((160, 48), id="160x48"), pytest.param((100, 30), id="100x30")]



@pytest.mark.parametrize("size", SIZES)
def test_town_screen(snap_compare, shared_town, size):
    """Town: agents tree (town, rig alpha, rig beta) with glyphs and 10m in state, mayor's pane slot,
    hook panel, the convoy 0/3, the inbox with 3 unread, the activity feed, the footer keys."""
    app = make_app(shared_town)

    async def run_before(pilot):
        await town_loaded(pilot)
        assert [a.name for a in pilot.app.screen.ordered()][:3] == ["mayor", "deacon", "boot"]

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_town_screen_polecat_with_molecule(snap_compare, shared_town, size):
    """Town with the stuck polecat nux focused (key 7): its hook al-... and the five-step checklist.
    The activity feed is hidden (f) here and below: only test_town_screen shows it."""
    app = make_app(shared_town)

    async def run_before(pilot):
        await town_loaded(pilot)
        await pilot.press("f", "7")
        assert pilot.app.screen.focused_agent == "alpha/polecats/nux"

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_town_grid_of_four(snap_compare, shared_town, size):
    """Town with layout 4 (l, l): four pane slots, the focused one highlighted; feed hidden (f)."""
    app = make_app(shared_town)

    async def run_before(pilot):
        await town_loaded(pilot)
        await pilot.press("f", "l", "l")
        assert len(pilot.app.screen.query(".pane-slot")) == 4

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_needs_you_screen(snap_compare, shared_town, size):
    """Needs you: the escalation first, the stuck polecat, the unread mail, the finished polecat."""
    app = make_app(shared_town)

    async def run_before(pilot):
        await town_loaded(pilot)
        await pilot.press("u")
        await until_screen(pilot, NeedsYouScreen, what="needs-you screen")
        kinds = [i.kind for i in pilot.app.screen.items]
        assert kinds[0] == "escalation" and "stuck" in kinds and "mail" in kinds

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_merge_queue_screen(snap_compare, shared_town, size):
    """Merge queue: furiosa's request, its one changed file alpha.py and the unified diff adding farewell()."""
    app = make_app(shared_town)

    async def run_before(pilot):
        await town_loaded(pilot)
        await pilot.press("m")
        await until(pilot, lambda: getattr(pilot.app.screen, "files", None), what="the MR's files")
        assert [f.path for f in pilot.app.screen.files] == ["alpha.py"]

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_merge_queue_side_by_side(snap_compare, shared_town, size):
    """Merge queue, diff side by side (v)."""
    app = make_app(shared_town)

    async def run_before(pilot):
        await town_loaded(pilot)
        await pilot.press("m")
        await until(pilot, lambda: getattr(pilot.app.screen, "files", None), what="the MR's files")
        await pilot.press("v")
        assert pilot.app.screen.diff_mode == "side"

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_convoys_screen(snap_compare, shared_town, size):
    """Convoys: Friendlier greetings 0/3 expanded with its three beads and holders."""
    app = make_app(shared_town)

    async def run_before(pilot):
        await town_loaded(pilot)
        await pilot.press("c")
        await until_screen(pilot, ConvoysScreen, what="convoys screen")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_beads_screen(snap_compare, shared_town, size):
    """Beads searched for "greet": the matching beads, the first one shown on the right.
    (Searching keeps the snapshot to the test's own beads, not every molecule step of the town.)"""
    app = make_app(shared_town)

    async def run_before(pilot):
        await town_loaded(pilot)
        await pilot.press("b")
        await until(pilot, lambda: getattr(pilot.app.screen, "shown", None), what="the beads list")
        await pilot.press("slash", *"greet", "enter")
        await until(pilot, lambda: all("greet" in b.title.lower() for b in pilot.app.screen.shown), what="search")
        assert "Greet in French" in [b.title for b in pilot.app.screen.shown]

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_mail_screen(snap_compare, shared_town, size):
    """Mail: the Overseer's inbox (3 unread); nothing opened, so nothing is marked read."""
    app = make_app(shared_town)

    async def run_before(pilot):
        await town_loaded(pilot)
        await pilot.press("i")
        await until(pilot, lambda: pilot.app.screen.query("#mail-list") and pilot.app.screen.query_one("#mail-list").mails,
                    what="the inbox")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_seance_screen(snap_compare, shared_town, size):
    """Seance for the mayor: no past sessions yet, said in words."""
    app = make_app(shared_town)

    async def run_before(pilot):
        await town_loaded(pilot)
        await pilot.press("S")
        await until_screen(pilot, SeanceScreen, what="seance screen")
        await until(pilot, lambda: pilot.app.screen.query("#seance-sessions")
                    and "Sessions of" in str(pilot.app.screen.query_one("#seance-sessions").border_title),
                    what="the session list")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare, shared_town, size):
    """Help (?): every binding with its keys and id."""
    app = make_app(shared_town)

    async def run_before(pilot):
        await town_loaded(pilot)
        await pilot.press("question_mark")
        await until_screen(pilot, HelpScreen, what="help screen")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_welcome_screen(snap_compare, size):
    """Welcome (no town): create, open, run the demo."""
    app = make_app(None)

    async def run_before(pilot):
        await until_screen(pilot, WelcomeScreen, what="welcome screen")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("theme", ["gastown-light", "gastown-high-contrast"])
def test_town_screen_other_themes(snap_compare, shared_town, theme):
    """The Town screen in the light and the high-contrast themes (same content as test_town_screen)."""
    app = make_app(shared_town)

    async def run_before(pilot):
        await town_loaded(pilot)
        await pilot.press("f")
        pilot.app.theme = theme
        await pilot.pause()
        assert pilot.app.theme_variables["state-stuck"]

    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)
