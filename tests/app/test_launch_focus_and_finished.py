"""Launch focus follows the first agent whose session goes live, never against the Overseer's own choice (and a
session that starts by itself replaces the placeholder in the centre); a polecat the Witness reaps stays in the tree as finished, with its last screen, until the Overseer has seen it.

The patrols that would start sessions on their own are switched off in these towns (settings `patrols.disabled`)
so each test decides when a session goes live; the sessions are real simulated agents in real PTYs."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import pytest

from gastown_tui.screens.needs_you import NeedsYouScreen
from gastown_tui.ui.town_view import PATROL_ROLES
from gastown_tui.ui.ghosts import GhostKeeper
from gastown_tui.client.in_process import spec_for
from gastown_tui.town.agents import set_agent_state
from gastown_tui.town.layout import Town
from gastown_tui.town.polecats import spawn_polecat
from widgets.no_session_pane import NoSessionPane
from widgets.terminal_pane import TerminalPane
from widgets.view_models import AgentView, HookView

from .helpers import fill_form, make_app, palette_run, town_loaded, until, until_screen
from .test_live_panes import pane_text

FURIOSA, NUX, SLIT = "alpha/polecats/furiosa", "alpha/polecats/nux", "alpha/polecats/slit"
TOAST, RICTUS = "alpha/polecats/toast", "alpha/polecats/rictus"
ALL_PATROLS = ["deacon", "witness", "refinery", "boot", "dogs", "gupp", "handoff", "budget"]


def patrols_off(root, keep: tuple[str, ...] = ()) -> None:
    path = root / "settings" / "config.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data["patrols"] = {"disabled": [p for p in ALL_PATROLS if p not in keep]}
    path.write_text(json.dumps(data))


def is_live(app, address: str) -> bool:
    agent = app.controller.view.agent(address) if app.controller.view else None
    return agent is not None and agent.live


def shown_live(screen, address: str) -> bool:
    """The Town screen has shown a view in which `address` is live (what could move the focus was seen)."""
    agent = screen.view.agent(address) if screen.view else None
    return agent is not None and agent.live


async def started(pilot):
    """The town shown and its session manager up; returns the Town screen."""
    await town_loaded(pilot)
    await until(pilot, lambda: pilot.app.controller.sessions is not None, what="the session manager")
    return pilot.app.screen


async def started_with_nothing_live(pilot):
    """`started`, and no agent live yet (the patrols that would start sessions are off)."""
    screen = await started(pilot)
    assert not any(a.live for a in pilot.app.controller.view.agents)
    return screen


@pytest.mark.slow
async def test_launch_focus_follows_the_first_agent_whose_session_goes_live(fresh_town):
    patrols_off(fresh_town)
    app = make_app(fresh_town, start_agents=True)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await started_with_nothing_live(pilot)
        assert screen.focused_agent == "mayor/"  # nothing live yet: the first agent, until one goes live
        app.agent_lifecycle("start", NUX)  # started from elsewhere (as the palette does); nobody chose an agent
        await until(pilot, lambda: screen.focused_agent == NUX, timeout=20, what="the centre to follow nux")
        assert is_live(app, NUX)
        grid = screen.query_one("#panes")
        await until(pilot, lambda: "SIMULATED" in pane_text(grid.slot(NUX).content), timeout=20,
                    what="nux's live screen in the centre")
        assert screen.query_one("#hook").border_title.endswith(NUX)
        # furiosa comes before nux in the tree, but nux went live first: the centre stays where it is
        app.agent_lifecycle("start", FURIOSA)
        await until(pilot, lambda: is_live(app, FURIOSA), timeout=20, what="furiosa's session")
        await until(pilot, lambda: shown_live(screen, FURIOSA), what="the Town screen showing furiosa live")
        assert screen.focused_agent == NUX


@pytest.mark.slow
async def test_launch_focus_never_moves_away_from_the_overseers_choice(fresh_town):
    patrols_off(fresh_town)
    app = make_app(fresh_town, start_agents=True)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await started_with_nothing_live(pilot)
        await pilot.press("3")  # the Overseer looks at boot
        assert screen.focused_agent == "boot"
        # ... and starts nux from the palette without choosing it
        await palette_run(pilot, "start agent")
        await fill_form(pilot, NUX)
        await until(pilot, lambda: is_live(app, NUX), timeout=20, what="nux's session")
        await until(pilot, lambda: shown_live(screen, NUX), what="the Town screen showing nux live")
        assert screen.focused_agent == "boot"
        grid = screen.query_one("#panes")
        assert grid.slot("boot") is not None and grid.slot(NUX) is None
        # the Overseer goes to slit, which has no session; a session started for it from outside the app's own
        # actions (as a patrol does, straight through the session manager) shows up in the centre by itself
        await pilot.press("g", *"slit", "enter")
        await until(pilot, lambda: screen.focused_agent == SLIT, what="slit in the centre")
        assert isinstance(grid.slot(SLIT).content, NoSessionPane)
        spec = await asyncio.to_thread(spec_for, fresh_town, SLIT)
        await app.controller.sessions.spawn(spec)
        await until(pilot, lambda: isinstance(grid.slot(SLIT).content, TerminalPane), timeout=20,
                    what="slit's live pane replacing the placeholder")
        assert grid.slot(SLIT).content.session is app.controller.sessions.get(SLIT)


def tree_label(screen, address: str) -> str | None:
    node = screen.query_one("#agents")._agent_nodes.get(address)
    return str(node.label) if node is not None else None


@pytest.mark.slow
async def test_a_reaped_polecat_stays_finished_with_its_last_screen_until_seen(fresh_town):
    """Two idle polecats are marked done (as `gt done` with nothing left to submit does) and the real Witness
    reaps them: their sessions end and the ledger drops them. The app keeps both as finished ghosts."""
    patrols_off(fresh_town, keep=("witness",))
    town = Town(fresh_town)
    for name in ("toast", "rictus"):
        spawn_polecat(town, "alpha", name=name)
    app = make_app(fresh_town, start_agents=True)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await started(pilot)
        await pilot.press("1")  # the Overseer watches the mayor: the polecats' ends happen out of sight
        for address in (TOAST, RICTUS):
            app.agent_lifecycle("start", address)
        sessions = app.controller.sessions

        def idle(address: str) -> bool:
            s = sessions.get(address)
            return s is not None and str(s.state) == "idle"

        await until(pilot, lambda: idle(TOAST) and idle(RICTUS), timeout=30, what="both polecats idle")
        toast_session = sessions.get(TOAST)
        for address in (TOAST, RICTUS):
            await asyncio.to_thread(set_agent_state, town, address, "done", hook=None)

        def ghost(address: str) -> AgentView | None:
            agent = screen.view.agent(address) if screen.view else None
            return agent if agent is not None and agent.ghost else None

        await until(pilot, lambda: ghost(TOAST) and ghost(RICTUS), timeout=60, what="both reaped and kept")
        listed = {a.address for a in app.controller.reading.town.agents}
        assert TOAST not in listed and RICTUS not in listed  # the town no longer has them; the app still shows them
        assert toast_session.exited
        assert ghost(TOAST).state == "finished" and ghost(TOAST).ghost == "finished"  # a polecat_reaped event says so
        assert "✓ toast finished" in tree_label(screen, TOAST)
        header = screen.query_one("#header").text.plain
        agents = [a for a in app.controller.reading.town.agents if a.role not in PATROL_ROLES]  # patrols: apart
        assert f"· {len(agents)} agents " in header and "✓2 finished" in header  # ghosts are not counted as agents
        unseen = {(i.kind, i.key) for i in screen.view.needs_you}
        assert {("finished", TOAST), ("finished", RICTUS)} <= unseen
        assert screen.focused_agent == "mayor/"  # a polecat leaving does not move the centre

        # Needs you: `d` dismisses rictus (it goes from the tree); toast stays
        await pilot.press("u")
        await until_screen(pilot, NeedsYouScreen, what="Needs you")
        needs = app.screen
        row = next(i for i, item in enumerate(needs.items) if item.key == RICTUS)
        needs.query_one("#queue").move_cursor(row=row)
        await pilot.press("d")
        await until(pilot, lambda: app.controller.view.agent(RICTUS) is None, what="rictus dismissed")
        assert app.controller.view.agent(TOAST) is not None
        await pilot.press("t")
        await until(pilot, lambda: app.screen is screen and tree_label(screen, RICTUS) is None, what="the tree")

        # going to toast shows its last screen (the session ended; the pane says so), and it counts as seen
        await pilot.press("g", *"toast", "enter")
        await until(pilot, lambda: screen.focused_agent == TOAST, what="toast in the centre")
        pane = screen.query_one("#panes").slot(TOAST).content
        assert pane.session is toast_session
        await until(pilot, lambda: "the program exited" in pane_text(pane), what="the exit line")
        assert "SIMULATED" in pane_text(pane)
        assert screen.query_one("#hook").border_title.endswith(TOAST)
        await until(pilot, lambda: ("finished", TOAST) not in {(i.kind, i.key) for i in screen.view.needs_you},
                    what="toast seen, out of Needs you")
        assert tree_label(screen, TOAST) is not None  # still there while it is being looked at
        await pilot.press("1")  # moving away lets it go
        await until(pilot, lambda: app.controller.view.agent(TOAST) is None and tree_label(screen, TOAST) is None,
                    what="toast gone once seen and left")
        assert screen.focused_agent == "mayor/"


# -- the ghost memory on its own (no app) ------------------------------------------------------------

NOW = datetime(2026, 1, 2, 3, 14, 5, tzinfo=timezone.utc)


def agent(address: str, hook: str | None = None) -> AgentView:
    return AgentView(address=address, role="polecat", rig="alpha", name=address.rsplit("/", 1)[-1], state="idle",
                     hook_id=hook, live=True)


def test_ghost_keeper_remembers_only_agents_live_this_run_and_their_last_hook():
    keeper = GhostKeeper()
    cat, other = agent(TOAST, "al-1"), agent(RICTUS)
    hooks = {TOAST: HookView(TOAST, "al-1", "Add farewell")}
    assert keeper.observe([cat, other], hooks, {TOAST}, None, set(), NOW, None) == []
    # gt done unhooked it before the reap: the ghost keeps the hook it had while working
    keeper.observe([agent(TOAST), other], {TOAST: HookView(TOAST, None)}, {TOAST}, None, set(), NOW, None)
    ghosts = keeper.observe([], {}, {TOAST}, None, {TOAST}, NOW, None)
    assert [(g.agent.address, g.agent.ghost, g.agent.hook_id, g.hook.title, g.seen) for g in ghosts] == \
        [(TOAST, "finished", "al-1", "Add farewell", False)]  # rictus never had a session here: no ghost
    assert ghosts[0].agent.since == NOW and not ghosts[0].agent.live


def test_ghost_keeper_seen_then_left_or_dismissed_or_name_taken():
    keeper = GhostKeeper()
    keeper.observe([agent(TOAST), agent(RICTUS), agent(NUX)], {}, {TOAST, RICTUS, NUX}, None, set(), NOW, RICTUS)
    ghosts = keeper.observe([], {}, {TOAST, RICTUS, NUX}, None, set(), NOW, RICTUS)
    assert {g.agent.address: (g.agent.ghost, g.seen) for g in ghosts} == \
        {TOAST: ("gone", False), RICTUS: ("gone", True), NUX: ("gone", False)}  # in the centre as it left: seen
    assert not keeper.leave(TOAST)  # not seen yet: moving "away" from it does not drop it
    assert keeper.see(TOAST) and keeper.leave(TOAST)
    assert keeper.dismiss(NUX)
    # a new polecat takes the name rictus: the old ghost goes, the new agent is shown
    ghosts = keeper.observe([agent(RICTUS)], {}, set(), None, set(), NOW, None)
    assert ghosts == []


def test_ghost_keeper_lets_go_of_the_oldest_screens_beyond_its_cap():
    from datetime import timedelta

    from gastown_tui.ui.ghosts import KEEP_SCREENS

    keeper = GhostKeeper()
    cats = [agent(f"alpha/polecats/p{i:02d}") for i in range(KEEP_SCREENS + 2)]
    held = {c.address: object() for c in cats}  # what the session manager would hand out (kept, never used)
    keeper.observe(cats, {}, set(held), held, set(), NOW, None)
    for i, cat in enumerate(cats):  # they leave one after the other
        keeper.observe(cats[i + 1:], {}, set(held), {}, set(), NOW + timedelta(seconds=i), None)
    first, second, newest = cats[0].address, cats[1].address, cats[-1].address
    assert keeper.session(newest) is held[newest]
    assert keeper.session(cats[2].address) is held[cats[2].address]
    assert keeper.session(first) is None and keeper.session(second) is None
    assert "more than" in keeper.why_no_screen(first)
    assert len(keeper.ghosts()) == KEEP_SCREENS + 2  # every row stays until seen
