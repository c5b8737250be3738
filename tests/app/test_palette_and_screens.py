"""The command palette offers every action; the Beads, Mail and Convoys screens change the town."""
from __future__ import annotations

from gastown_tui.screens.convoys import ConvoysScreen
from gastown_tui.town.convoys import list_convoys
from gastown_tui.town.hooks import hooked_work
from gastown_tui.town.layout import Town
from gastown_tui.town.ledgers import all_ledgers
from gastown_tui.town.mail import inbox

from .helpers import fill_form, make_app, open_by_key, palette_run, town_loaded, until, until_screen

EVERY_ACTION = ["Sling", "Nudge", "Handoff", "Seance", "New convoy", "Add rig", "Spawn polecat", "Start agent",
                "Stop agent", "Restart agent", "Theme: gastown-light", "Theme: gastown-high-contrast",
                "Open Town", "Open Needs you", "Open Merge queue", "Open Convoys", "Open Beads", "Open Mail",
                "Open Seance", "Next agent", "Previous agent", "Next agent needing attention", "Layout 9",
                "Zoom pane", "Toggle activity feed", "Go to agent 7 alpha/polecats/nux", "Help: keys"]


async def test_the_palette_offers_every_action(shared_town):
    from gastown_tui.ui.palette import commands

    app = make_app(shared_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        titles = [c.title for c in commands(app, app.screen)]
        missing = [t for t in EVERY_ACTION if t not in titles]
        assert missing == []


async def test_sling_from_the_palette_hooks_the_bead(fresh_town):
    town = Town(fresh_town)
    bead = next(b for l in all_ledgers(town) for b in l.all() if b.title == "Type-check the module")
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await palette_run(pilot, "sling")
        await fill_form(pilot, bead.id, "alpha")
        await until(pilot, lambda: any(a.hook_id == bead.id for a in app.controller.view.agents), timeout=20,
                    what="a polecat with the bead on its hook in the app")
        holder = next(a.address for a in app.controller.view.agents if a.hook_id == bead.id)
    assert hooked_work(town, holder).id == bead.id


async def test_beads_screen_create_search_and_close(fresh_town):
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_by_key(pilot, "b", "shown", what="the beads")
        await pilot.press("plus")
        await fill_form(pilot, "Wave goodbye politely", "alpha", "feature", "1", "Say goodbye.")
        await until(pilot, lambda: any(b.title == "Wave goodbye politely" for b in screen.beads), what="the new bead")
        await pilot.press("slash", *"politely", "enter")
        await until(pilot, lambda: [b.title for b in screen.shown] == ["Wave goodbye politely"], what="the search")
        new = screen.current()
        assert new.issue_type == "feature" and new.priority == 1
        await pilot.press("x")
        await fill_form(pilot, "not needed after all")
        town = Town(fresh_town)
        await until(pilot, lambda: next(b for l in all_ledgers(town) for b in l.all(include_tombstones=True)
                                        if b.id == new.id).status == "closed", what="the bead to close")


async def test_mail_compose_and_reply(fresh_town):
    town = Town(fresh_town)
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await pilot.press("i")
        await until(pilot, lambda: app.screen.query("#mail-list") and app.screen.query_one("#mail-list").mails,
                    what="the inbox")
        await pilot.press("w")
        await fill_form(pilot, "mayor/", "Status?", "How is the convoy doing?")
        await until(pilot, lambda: any(m.subject == "Status?" for m in inbox(town, "mayor/")), what="the mail")
        # open the mayor's mail (newest last in the list) and reply to it
        mail_list = app.screen.query_one("#mail-list")
        mayor_mail = next(i for i, m in enumerate(mail_list.mails) if m.sender == "mayor/")
        mail_list.highlighted = mayor_mail
        await pilot.press("enter")
        await until(pilot, lambda: "Friendlier greetings is under way" in str(
            app.screen.query_one("#mail-thread").render()), what="the thread")
        await pilot.press("r")
        await fill_form(pilot, "Re: Convoy started", "Thanks, watching it.")
        await until(pilot, lambda: any(m.body.startswith("Thanks, watching it.") for m in inbox(town, "mayor/")),
                    what="the reply")


async def test_convoys_screen_new_convoy(fresh_town):
    town = Town(fresh_town)
    bead = next(b for l in all_ledgers(town) for b in l.all() if b.title == "Speed up greet for long names")
    app = make_app(fresh_town)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await pilot.press("c")
        await until_screen(pilot, ConvoysScreen, what="the convoys")
        await pilot.press("C")
        await fill_form(pilot, "Faster greetings", bead.id)
        await until(pilot, lambda: any(c.title == "Faster greetings" for c in app.controller.view.convoys),
                    what="the new convoy on screen")
    convoy = next(c for c in list_convoys(town) if c.title == "Faster greetings")
    assert [t.bead_id for t in convoy.tracked] == [bead.id]
