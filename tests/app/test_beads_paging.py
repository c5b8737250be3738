"""Every matching bead is reachable on the Beads screen: a ledger of ~1,200 beads is shown a page at a time,
more rows arrive as the cursor or the scroll nears the end, the last bead's row can be reached, the border's
"(N of M)" stays true, and the search still narrows the list."""
from __future__ import annotations

import pytest

from gastown_tui.town.layout import Town
from gastown_tui.town.ledgers import all_ledgers, rig_ledger
from widgets.bead_table import BeadTable

from .helpers import fill_form, make_app, town_loaded, until

GENERATED = 1200


def generate(root) -> tuple[int, int, str]:
    """Adds GENERATED open P4 beads to alpha's ledger; returns (open beads, all beads, the last one's id)."""
    town = Town(root)
    ledger = rig_ledger(town, "alpha")
    ids = [f"{ledger.prefix}-zzz{i:04d}" for i in range(GENERATED)]
    ledger.bulk_create(({"id": bead_id, "title": f"Generated bead {i:04d}", "priority": 4}
                        for i, bead_id in enumerate(ids)), actor="test")
    beads = [b for ledger in all_ledgers(Town(root)) for b in ledger.all()]
    return sum(1 for b in beads if b.status != "closed"), len(beads), ids[-1]


def table_text(table) -> str:
    return "\n".join("".join(seg.text for seg in table.render_line(y)) for y in range(table.size.height))


@pytest.mark.slow
async def test_every_match_is_reachable_a_page_at_a_time(fresh_town):
    open_count, total, last_id = generate(fresh_town)
    assert open_count > GENERATED
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await pilot.press("b")
        await until(pilot, lambda: getattr(app.screen, "shown", None), timeout=20, what="the beads")
        screen = app.screen
        table = screen.query_one(BeadTable)
        assert table.row_count == 500
        assert f"({open_count} of {total}, 500 loaded" in str(table.border_title)

        # the cursor walking down: the next page arrives before it reaches the last loaded row
        for _ in range(20):
            await pilot.press("pagedown")
            if table.row_count > 500:
                break
        assert table.row_count == 1000 and table.cursor_row < 500
        assert f"({open_count} of {total}, 1000 loaded" in str(table.border_title)

        # the wheel (a scroll without the cursor) does the same
        table.scroll_to(y=table.max_scroll_y, animate=False)
        await until(pilot, lambda: table.row_count == open_count, what="the last page after a scroll")
        assert str(table.border_title).endswith(f"({open_count} of {total})")

        # end: the last bead's row, on screen, and shown on the right
        await pilot.press("end")
        await until(pilot, lambda: table.cursor_row == open_count - 1, what="the cursor on the last row")
        await until(pilot, lambda: last_id in str(screen.query_one("#bead-show").render()), what="the last bead shown")
        assert screen.current().id == last_id
        assert last_id in table_text(table) and "Generated bead 1199" in table_text(table)
        assert last_id in str(screen.query_one("#bead-show").render())

        # the search still narrows the whole ledger, not just the loaded rows
        await pilot.press("slash", *"Generated bead 11", "enter")
        await until(pilot, lambda: table.row_count == 100, what="the search")
        assert str(table.border_title).endswith(f"matching 'Generated bead 11' (100 of {total})")
        assert [b.title for b in screen.shown] == [f"Generated bead {i:04d}" for i in range(1100, 1200)]


async def test_end_loads_every_remaining_page_at_once(fresh_town):
    open_count, total, last_id = generate(fresh_town)
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await pilot.press("b")
        await until(pilot, lambda: getattr(app.screen, "shown", None), timeout=20, what="the beads")
        table = app.screen.query_one(BeadTable)
        assert table.row_count == 500
        await pilot.press("end")
        await until(pilot, lambda: table.cursor_row == open_count - 1, what="the cursor on the last row")
        screen = app.screen
        assert table.row_count == open_count and screen.current().id == last_id
        # an edit reloads the ledgers: the cursor stays on the edited bead, far below the first page
        await pilot.press("e")
        await fill_form(pilot, "Generated bead 1199, edited")
        await until(pilot, lambda: any(b.title == "Generated bead 1199, edited" for b in screen.beads), timeout=20,
                    what="the edit on the Beads screen")
        await until(pilot, lambda: screen.current() is not None and screen.current().id == last_id,
                    what="the cursor back on the edited bead")
        assert screen.current().title == "Generated bead 1199, edited" and table.cursor_row == open_count - 1
