"""A new town's first screen: the Mayor (the front door) focused and live, with a hint to tell it what to
build; the roles that run as patrols shown as patrols, their panes showing the patrol at work."""
from __future__ import annotations

import subprocess
import sys

import pytest

from gastown_tui.app import AttachedApp
from gastown_tui.client.socket_link import SocketLink
from gastown_tui.town.install import install_town
from widgets.no_session_pane import NoSessionPane

from .helpers import town_loaded, until


def gastown(*args, cwd):
    return subprocess.run([sys.executable, "-m", "gastown_tui.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def served_town(tmp_path):
    root = install_town(tmp_path / "town").root
    up = gastown("up", cwd=root)
    assert up.returncode == 0, up.stdout + up.stderr
    yield root
    down = gastown("down", cwd=root)
    assert down.returncode == 0, down.stdout + down.stderr


def shown_pane_text(app) -> str:
    panes = [p for p in app.screen.query(NoSessionPane) if p.display]
    return str(panes[0].render()) if panes else ""


async def test_a_new_town_opens_on_the_live_mayor_and_its_patrols_at_work(served_town):
    app = AttachedApp(served_town, link=SocketLink(served_town))
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        screen = app.screen
        await until(pilot, lambda: screen.focused_agent == "mayor/" and
                    any(a.address == "mayor/" and a.live for a in screen.view.agents),
                    timeout=60, what="the Mayor focused and live")
        assert any("Tell the Mayor what you want built" in str(n.message) for n in app._notifications)
        roles = {a.role: a.state for a in screen.view.agents}
        assert roles["deacon"] == roles["boot"] == "patrol"
        header = str(screen.query_one("#header").render())
        assert "◎2 patrols" in header, header       # a town with no rig: the Deacon and Boot
        await pilot.press("2")                       # the Deacon, second in the tree
        await until(pilot, lambda: screen.focused_agent == "deacon/", what="the Deacon focused")
        await until(pilot, lambda: "woke on" in shown_pane_text(app), timeout=30,
                    what="the Deacon's pane showing its patrol runs")
        text = shown_pane_text(app)
        assert "a patrol inside the town" in text and "next wake in" in text, text
