"""Acting from the app changes the town: approve and send back from the merge queue, work the
needs-you queue. Each test reads the ledger afterwards through the town's own API."""
from __future__ import annotations

from gastown_tui.beads.fields import parse_fields
from gastown_tui.screens.beads import BeadsScreen
from gastown_tui.screens.convoys import ConvoysScreen
from gastown_tui.screens.form import FormScreen
from gastown_tui.screens.merge_queue import MergeQueueScreen
from gastown_tui.screens.town import TownScreen
from gastown_tui.town.layout import Town
from gastown_tui.town.ledgers import all_ledgers, ledger_for_id
from gastown_tui.town.mail import inbox
from gastown_tui.town.mq import get_mr, list_mrs

from .helpers import make_app, open_by_key, town_loaded, until, until_screen


def only_mr(root):
    [mr] = list_mrs(Town(root))
    return mr


async def open_merge_queue(pilot):
    await town_loaded(pilot)
    await pilot.press("m")
    await until(pilot, lambda: getattr(pilot.app.screen, "files", None), what="the merge request's diff")


async def open_send_back_form(pilot):
    """The merge queue, then `x` on its first MR: the form asking for the note."""
    await open_merge_queue(pilot)
    await pilot.press("x")
    await until_screen(pilot, FormScreen, what="the note form")


async def test_approve_from_the_merge_queue_changes_the_ledger(fresh_town):
    mr = only_mr(fresh_town)
    assert not parse_fields(ledger_for_id(Town(fresh_town), mr.id).get(mr.id).description).get("approved_by")
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_merge_queue(pilot)
        await pilot.press("a")
        await until(pilot, lambda: parse_fields(ledger_for_id(Town(fresh_town), mr.id).get(mr.id).description)
                    .get("approved_by") == "overseer", what="the approval in the ledger")
        # the app shows it too: the approval event reaches the activity feed of the town view
        await until(pilot, lambda: any(e.type == "mr_approved" for e in app.controller.view.events),
                    what="the approval in the activity feed")


async def test_send_back_with_a_note(fresh_town):
    mr = only_mr(fresh_town)
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_send_back_form(pilot)
        await pilot.press(*"please", "space", *"add", "space", *"a", "space", *"test")
        await pilot.press("ctrl+s")
        town = Town(fresh_town)
        await until(pilot, lambda: get_mr(town, mr.id).state == "failed", what="the MR to be sent back")
        polecat = mr.polecat
        mails = inbox(town, polecat)
        assert any("please add a test" in m.body for m in mails), [m.subject for m in mails]


async def test_send_back_needs_a_note(fresh_town):
    mr = only_mr(fresh_town)
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_send_back_form(pilot)
        await pilot.press("ctrl+s")
        assert "required" in str(app.screen.query_one("#form-error").render())
        await pilot.press("escape")
        await until_screen(pilot, MergeQueueScreen, what="the form closed unsent")
    assert get_mr(Town(fresh_town), mr.id).state == "queued"


async def test_needs_you_queue_jump_and_act(fresh_town):
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        queue = await open_by_key(pilot, "u", "items", what="the needs-you queue")
        assert queue.current().kind == "escalation"
        await pilot.press("n")
        assert queue.current().kind == "stuck" and queue.current().agent == "alpha/polecats/nux"
        await pilot.press("enter")  # jumps to the stuck polecat's pane on the Town screen
        await until_screen(pilot, TownScreen, what="the Town screen")
        assert app.screen.focused_agent == "alpha/polecats/nux"
        # back to the queue: dismiss the first unread mail; the ledger marks it read
        await pilot.press("u")
        await until(pilot, lambda: getattr(app.screen, "items", None), what="the needs-you queue")
        queue = app.screen
        while queue.current().kind != "mail":
            await pilot.press("n")
        mail_id = queue.current().key
        await pilot.press("d")
        town = Town(fresh_town)
        await until(pilot, lambda: next(m for m in inbox(town, "overseer") if m.id == mail_id).read,
                    what="the mail to be marked read")
        await until(pilot, lambda: all(i.key != mail_id for i in queue.items), what="the mail to leave the queue")
        assert app.controller.view.unread == 2


async def test_one_key_takes_the_next_item_and_acts(fresh_town):
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await pilot.press("u")
        await until(pilot, lambda: getattr(app.screen, "items", None), what="the needs-you queue")
        kinds = [i.kind for i in app.screen.items]
        assert kinds[:2] == ["escalation", "stuck"]
        await pilot.press("space")  # the first item: the escalation opens its bead
        await until_screen(pilot, BeadsScreen, what="the escalation's bead")
        await until(pilot, lambda: app.screen.current() is not None
                    and app.screen.current().title.startswith("ESCALATION"), what="the bead shown")


async def test_resling_and_open_pane_from_the_merge_queue(fresh_town):
    from gastown_tui.town.hooks import hooked_work

    mr = only_mr(fresh_town)
    town = Town(fresh_town)
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_merge_queue(pilot)
        await pilot.press("o")  # the polecat's pane on the Town screen
        await until_screen(pilot, TownScreen, what="the Town screen")
        assert app.screen.focused_agent == mr.polecat
        await pilot.press("m")
        await until(pilot, lambda: getattr(app.screen, "files", None), what="the merge queue again")
        await pilot.press("r")
        await until_screen(pilot, FormScreen, what="the re-sling form")
        assert app.screen.query_one("#field-target").value == "alpha"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: get_mr(town, mr.id).state == "superseded", timeout=20, what="the MR superseded")
        await until(pilot, lambda: [a.address for a in app.controller.view.agents if a.hook_id == mr.source_bead],
                    what="the bead on a new polecat's hook")
        holder = next(a.address for a in app.controller.view.agents if a.hook_id == mr.source_bead)
    assert holder != mr.polecat
    assert hooked_work(town, holder).id == mr.source_bead


async def test_convoy_add_and_close(fresh_town):
    from gastown_tui.town.convoys import list_convoys

    town = Town(fresh_town)
    [convoy] = list_convoys(town)
    extra = next(b for l in all_ledgers(town) for b in l.all() if b.title == "Type-check the module")
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await pilot.press("c")
        await until_screen(pilot, ConvoysScreen, what="the convoys")
        await pilot.press("plus")
        await until_screen(pilot, FormScreen, what="the add form")
        app.screen.query_one("#field-beads").value = extra.id
        await pilot.press("ctrl+s")
        await until(pilot, lambda: extra.id in [t.bead_id for t in list_convoys(town)[0].tracked],
                    what="the bead tracked")
        await until(pilot, lambda: app.controller.view.convoys[0].total == 4, what="4 beads on screen")
        await pilot.press("x")
        await until(pilot, lambda: list_convoys(town, include_closed=True)[0].status == "closed",
                    what="the convoy closed")
