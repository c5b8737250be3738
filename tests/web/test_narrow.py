"""The narrow layout in a narrow terminal (the same layout a phone's browser gets): Pilot, real test town."""
from __future__ import annotations

import pytest
from textual.widgets import Button

from app.helpers import build_town, make_app, town_loaded, until, until_screen
from gastown_tui.screens.form import FormScreen
from gastown_tui.screens.merge_queue import MergeQueueScreen


@pytest.fixture
def town(tmp_path):
    return build_town(tmp_path / "t")


def shown(app, selector: str) -> bool:
    widget = app.screen.query_one(selector)
    return widget.display and widget.region.area > 0


async def test_a_narrow_terminal_gets_one_pane_and_the_agent_list_one_tap_away(town):
    app = make_app(town)
    async with app.run_test(size=(60, 30)) as pilot:
        await town_loaded(pilot)
        assert app.has_class("-narrow")
        assert shown(app, "#panes") and not shown(app, "#agents") and not shown(app, "#side")
        assert not shown(app, "#feed")
        await pilot.click("#town-bar Button")  # "Agents"
        await until(pilot, lambda: shown(app, "#agents") and not shown(app, "#panes"), what="the agent list")
        tree = app.screen.query_one("#agents")
        target = next(a.address for a in app.screen.ordered() if a.address != app.screen.focused_agent)
        await pilot.press("down")  # moving the cursor keeps the list open
        assert shown(app, "#agents")
        tree.select_agent(target)
        await pilot.press("enter")
        await until(pilot, lambda: shown(app, "#panes") and app.screen.focused_agent == target,
                    what="the chosen agent's pane in place of the list")


async def test_wide_terminals_keep_the_full_town_and_no_bar(town):
    app = make_app(town)
    async with app.run_test(size=(140, 40)) as pilot:
        await town_loaded(pilot)
        assert not app.has_class("-narrow")
        assert shown(app, "#agents") and shown(app, "#panes") and shown(app, "#side")
        assert not shown(app, "#town-bar")
        await pilot.resize_terminal(80, 30)
        await until(pilot, lambda: app.has_class("-narrow") and shown(app, "#town-bar"), what="the narrow layout")
        bar = app.screen.query_one("#town-bar")  # its buttons, made when the bar is first shown
        await until(pilot, lambda: [str(b.label) for b in bar.query(Button)] ==
                    ["Agents", "Type", "Nudge", "Needs you", "MQ"], what="the bar's buttons")
        await pilot.click("#town-bar Button")  # "Agents"
        await until(pilot, lambda: shown(app, "#agents") and not shown(app, "#panes"), what="the agent list")


async def test_the_merge_queue_approve_button_approves_on_disk(town):
    from gastown_tui.patrols.refinery import approved
    from gastown_tui.town.layout import Town
    from gastown_tui.town.ledgers import ledger_for_id

    app = make_app(town)
    async with app.run_test(size=(60, 30)) as pilot:
        await town_loaded(pilot)
        await pilot.click("#town-bar Button:last-of-type")  # "MQ"
        await until(pilot, lambda: isinstance(app.screen, MergeQueueScreen) and app.screen.mrs,
                    what="the merge queue")
        mr = app.screen.current()
        bar = app.screen.query_one("#mq-bar")
        approve = bar.query("Button").first()
        assert str(approve.label) == "Approve" and approve.region.height >= 3  # a big target
        await pilot.click(approve)
        await until(pilot, lambda: approved(ledger_for_id(Town(town), mr.id).get(mr.id)), timeout=30,
                    what="the approval in the ledger")


async def test_the_merge_queue_nudge_button_asks_what_to_type_into_the_polecat(town):
    app = make_app(town)
    async with app.run_test(size=(60, 30)) as pilot:
        await town_loaded(pilot)
        await pilot.click("#town-bar Button:last-of-type")  # "MQ"
        await until(pilot, lambda: isinstance(app.screen, MergeQueueScreen) and app.screen.mrs,
                    what="the merge queue")
        polecat = app.screen.current().polecat
        nudge = [b for b in app.screen.query("#mq-bar Button") if str(b.label) == "Nudge"][0]
        await pilot.click(nudge)
        await until_screen(pilot, FormScreen, what="the nudge form")
        title = app.screen.form_title
        assert title.startswith("Nudge ") and title.endswith(polecat.rsplit("/", 1)[-1])
