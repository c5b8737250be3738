"""Switching agents on the Town screen by every method: next/prev, next/prev needing attention,
number, fuzzy go-to, the command palette, and the mouse."""
from __future__ import annotations

from gastown_tui.screens.goto import GoToScreen
from gastown_tui.screens.town import TownScreen

from .helpers import make_app, palette_run, town_loaded, until, until_screen


async def test_next_and_previous_agent_wrap_around(shared_town):
    app = make_app(shared_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        town = app.screen
        assert town.focused_agent == "mayor/"
        await pilot.press("n")
        assert town.focused_agent == "deacon/"
        await pilot.press("p", "p")
        assert town.focused_agent == "beta/refinery"  # wrapped to the last agent in the tree
        slot = town.query_one("#panes").slot("beta/refinery")
        assert slot is not None and "beta/refinery" in str(slot.border_title)


async def test_next_needing_attention_skips_the_rest(shared_town):
    app = make_app(shared_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        town = app.screen
        await pilot.press("a")
        assert town.focused_agent == "alpha/polecats/furiosa"  # finished, not yet seen
        await pilot.press("a")
        assert town.focused_agent == "alpha/polecats/nux"  # stuck
        # furiosa has now been seen: it is no longer waiting for anyone
        await until(pilot, lambda: app.controller.view.agent("alpha/polecats/furiosa").state == "idle",
                    what="furiosa to count as seen")
        await pilot.press("A")
        assert town.focused_agent == "alpha/polecats/nux"


async def test_jump_by_number(shared_town):
    app = make_app(shared_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await pilot.press("8")
        assert app.screen.focused_agent == "alpha/polecats/slit"
        hook = str(app.screen.query_one("#hook").render())
        assert "al-" in hook and "Document greet()" in hook and "[ ] Implement" in hook


async def test_fuzzy_go_to(shared_town):
    app = make_app(shared_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await pilot.press("g")
        await until_screen(pilot, GoToScreen, what="the go-to box")
        await pilot.press(*"btrf")  # fuzzy: beta/refinery
        await pilot.press("enter")
        await until_screen(pilot, TownScreen, what="back on the town")
        assert app.screen.focused_agent == "beta/refinery"


async def test_command_palette_goes_to_an_agent(shared_town):
    app = make_app(shared_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await palette_run(pilot, "go to agent 9")
        await until_screen(pilot, TownScreen, what="back on the town")
        await until(pilot, lambda: app.screen.focused_agent == "beta/witness", what="beta/witness focused")


async def test_click_a_row_focuses_that_agent(shared_town):
    app = make_app(shared_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        tree = app.screen.query_one("#agents")
        line = next(i for i, l in enumerate(tree._tree_lines) if l.node.data == "alpha/refinery")
        await pilot.click("#agents", offset=(6, line + 1))
        assert app.screen.focused_agent == "alpha/refinery"


async def test_layouts_and_zoom(shared_town):
    app = make_app(shared_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        town = app.screen
        counts = []
        for _ in range(4):
            await pilot.press("l")
            await pilot.pause()
            counts.append(len(town.query(".pane-slot")))
        assert counts == [2, 4, 6, 9]
        await pilot.press("z")
        assert not town.query_one("#agents").display and not town.query_one("#side").display
        await pilot.press("z", "f")
        assert town.query_one("#agents").display and not town.query_one("#feed").display


async def test_click_a_pane_slot_focuses_that_agent(shared_town):
    app = make_app(shared_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await pilot.press("l", "l")  # four panes: mayor, deacon, boot, alpha/witness
        await pilot.pause()
        slot = app.screen.query_one("#panes").slot("boot")
        await pilot.click(slot, offset=(4, 3))
        assert app.screen.focused_agent == "boot"
        assert slot.has_class("-focused")


async def test_arrow_keys_in_the_tree_choose_agents(shared_town):
    app = make_app(shared_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        assert app.focused is app.screen.query_one("#agents")
        await pilot.press("down")
        await until(pilot, lambda: app.screen.focused_agent == "deacon/", what="deacon chosen with the arrow")
        await pilot.press("down", "down")  # past boot, onto the "rig alpha" group line: no agent there
        tree = app.screen.query_one("#agents")
        await until(pilot, lambda: tree.cursor_node is not None and tree.cursor_node.data is None
                    and "alpha" in tree.cursor_node.label.plain, what="the cursor on the rig's group line")
        assert app.screen.focused_agent == "boot"
        await pilot.press("down")
        await until(pilot, lambda: app.screen.focused_agent == "alpha/witness", what="alpha/witness chosen")
