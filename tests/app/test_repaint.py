"""Only what changed is drawn again: moving the tree's cursor redraws the two lines involved, one agent's new
state redraws its own line, and a town refresh that changed nothing redraws neither the hook panel nor the
inbox. Lines are counted where Textual asks a widget for them (`render_line`)."""
from __future__ import annotations

from gastown_tui.client.link import StateEvent

from .helpers import make_app, town_loaded


class LineCounter:
    """Records which lines Textual asks `widget` to draw (wraps the instance's `render_line`)."""

    def __init__(self, widget) -> None:
        self.lines: list[int] = []
        original = widget.render_line

        def render_line(y: int):
            self.lines.append(y)
            return original(y)

        widget.render_line = render_line


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.pause(0.05)


async def test_moving_the_tree_cursor_redraws_only_the_two_lines_involved(shared_town):
    app = make_app(shared_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await settle(pilot)
        town = app.screen
        tree = town.query_one("#agents")
        assert town.focused_agent == "mayor/" and tree.scroll_offset.y == 0
        old_line = tree.cursor_line
        counter = LineCounter(tree)
        await pilot.press("n")
        await settle(pilot)
        assert town.focused_agent == "deacon/"
        assert sorted(counter.lines) == sorted({old_line, tree.cursor_line}) and old_line != tree.cursor_line
        # what was drawn is right: the cursor is on the deacon's line now
        assert "deacon" in tree.cursor_node.label.plain


async def test_one_agent_changing_state_redraws_its_line_only(shared_town):
    app = make_app(shared_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await pilot.press("1")  # the Overseer chose the mayor: a session going live elsewhere does not move the centre
        await settle(pilot)
        town, ctl = app.screen, app.controller
        tree = town.query_one("#agents")
        address = "beta/refinery"
        node = tree._agent_nodes[address]
        before = node.label.plain
        counter = LineCounter(tree)
        hook_counter = LineCounter(town.query_one("#hook"))
        ctl.session_state_changed(StateEvent(address, "idle", "stuck", "no output for a while"))
        town.show_town(ctl.rebuild_view())
        await settle(pilot)
        assert tree._agent_nodes[address].label.plain != before  # the stuck glyph and its age
        assert counter.lines == [node.line]
        assert hook_counter.lines == []  # the focused agent (the mayor) and its hook did not change
        assert town.focused_agent == "mayor/"


async def test_an_unchanged_town_refresh_redraws_neither_hook_nor_inbox(shared_town):
    app = make_app(shared_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await pilot.press("8")  # slit: a hook with a molecule checklist
        await settle(pilot)
        town, ctl = app.screen, app.controller
        hook, inbox = town.query_one("#hook"), town.query_one("#inbox")
        assert "[ ] Implement" in str(hook.render())
        counters = {name: LineCounter(w) for name, w in
                    (("hook", hook), ("inbox", inbox), ("tree", town.query_one("#agents")))}
        view = ctl.rebuild_view()  # new objects, same content
        assert view is not town.view
        town.show_town(view)
        await settle(pilot)
        assert {name: c.lines for name, c in counters.items()} == {"hook": [], "inbox": [], "tree": []}
        # the focused agent's own state changes, its hook and checklist do not: the hook panel is not redrawn
        slit = "alpha/polecats/slit"
        ctl.session_state_changed(StateEvent(slit, "idle", "stuck", "no output for a while"))
        town.show_town(ctl.rebuild_view())
        await settle(pilot)
        assert town.focused_agent == slit and town.view.agent(slit).state == "stuck"
        assert counters["hook"].lines == [] and len(counters["tree"].lines) == 1
