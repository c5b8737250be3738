"""The attached app's first read of the town goes out as its link connects (behind the watch, so its answer is
on the way while the app draws): it is the town as it is, and a change that comes before the app takes it is
not lost."""
from __future__ import annotations

import asyncio

import pytest

from gastown_tui.client.socket_link import SocketLink
from server.serverkit import ServerProcess, connect, make_town

OVERSEER = "overseer"  # the human, as the server's api names it


@pytest.fixture
def server(tmp_path):
    town = make_town(tmp_path / "town")
    proc = ServerProcess(town)
    proc.wait_ready()
    yield proc
    proc.stop()


def subjects(reading: dict) -> list[str]:
    return sorted(m["subject"] for m in reading["town"]["mail"])


async def test_the_first_read_is_the_town_now_even_when_it_changed_after_the_link_connected(server):
    link = SocketLink(server.town)
    changed = asyncio.Event()
    await link.start(lambda _event: None, False)
    watching = asyncio.create_task(link.watch_town(changed.set))
    control = await connect(server)
    try:
        await control.request("call", fn="mail.send", args={"to": OVERSEER, "subject": "after the link connected",
                                                            "body": "b", "sender": "mayor/"})
        await asyncio.wait_for(changed.wait(), 30)
        got = await link.call("town.read")
        assert "after the link connected" in subjects(got)
        # and the next reads are read when asked, as ever
        await control.request("call", fn="mail.send", args={"to": OVERSEER, "subject": "later", "body": "b",
                                                            "sender": "mayor/"})
        assert subjects(await link.call("town.read")) == subjects(
            await control.request("call", fn="town.read", args={}))
        assert "later" in subjects(await link.call("town.read"))
    finally:
        await control.close()
        await link.close()
        watching.cancel()


async def test_the_first_read_answers_without_a_change(server):
    link = SocketLink(server.town)
    await link.start(lambda _event: None, False)
    control = await connect(server)
    try:
        got = await link.call("town.read")
        assert got["town"]["name"] and subjects(got) == subjects(await control.request("call", fn="town.read",
                                                                                         args={}))
    finally:
        await control.close()
        await link.close()


# -- the first read made while the app imports (client/first_read.py), taken over by the link ---------------------

async def test_the_link_takes_over_the_connection_opened_during_the_imports_and_loses_no_change(server):
    """`gastown` asks the server for the town on a thread before importing Textual; the link adopts that
    connection: the replies the thread read are its answers, a change made after the thread read the town
    still reaches the app (the read is asked again), and the connection goes on serving requests."""
    from gastown_tui.client.first_read import FirstRead

    first = FirstRead.begin(server.town)
    assert await asyncio.to_thread(first.wait), first.error
    control = await connect(server)
    link = SocketLink(server.town, first)
    changed = asyncio.Event()
    try:
        await control.request("call", fn="mail.send", args={"to": OVERSEER, "subject": "while the app imported",
                                                            "body": "b", "sender": "mayor/"})
        await link.start(lambda _event: None, False)
        assert link.conn.server["server_pid"] == server.pid  # the thread's hello, handed on
        watching = asyncio.create_task(link.watch_town(changed.set))
        await asyncio.wait_for(changed.wait(), 30)  # the change's event, read by the thread or after it
        assert "while the app imported" in subjects(await link.call("town.read"))
        await control.request("call", fn="mail.send", args={"to": OVERSEER, "subject": "after the take-over",
                                                            "body": "b", "sender": "mayor/"})
        assert "after the take-over" in subjects(await link.call("town.read"))  # new ids, same socket
        clients = await control.request("status")
        assert sum(1 for c in clients["clients"] if c.get("client") == "app") == 1  # one connection, not two
        watching.cancel()
    finally:
        await control.close()
        await link.close()


async def test_without_a_server_the_first_read_gives_way_to_the_ordinary_connect(tmp_path):
    from gastown_tui.client.first_read import FirstRead

    town = make_town(tmp_path / "town")
    first = FirstRead.begin(town)
    assert not await asyncio.to_thread(first.answered)
    assert first.error and first.taken() is None
    link = SocketLink(town, first)
    with pytest.raises(OSError):  # what an app without a first read says when no server answers
        await link.start(lambda _event: None, False)


async def test_the_attached_apps_town_screen_is_first_painted_with_the_town_in_it(server, monkeypatch):
    """`gastown` on a running server: the Town screen is made once the town (read while the app imported) is
    in, so the very first time it is painted it already shows the agents, the focused agent's live pane and
    the activity feed (it used to be painted empty, "loading", and filled a read later)."""
    from gastown_tui.app import AttachedApp
    from gastown_tui.client.first_read import FirstRead
    from gastown_tui.screens.town import TownScreen
    from server.serverkit import spawn_chatter
    from widgets.activity_feed import ActivityFeed
    from widgets.agent_tree import AgentTree
    from widgets.terminal_pane import TerminalPane

    from .helpers import frozen_clock, until

    control = await connect(server)
    await spawn_chatter(control, server.town, "mayor/", rate=0, cols=90, rows=20)
    await control.close()
    paints = []
    display = AttachedApp._display

    def painted(app, screen, update) -> None:  # what the app draws to the terminal (a refresh with nothing
        if isinstance(screen, TownScreen) and update is not None:  # to draw gives no update)
            panes = [p for p in screen.query(TerminalPane) if p.display]
            paints.append({"town": screen.view is not None and len(screen.query_one(AgentTree).ordered) > 0,
                           "pane": [getattr(p.session, "agent", None) for p in panes],
                           "feed": len(screen.query_one(ActivityFeed).lines)})
        display(app, screen, update)

    monkeypatch.setattr(AttachedApp, "_display", painted)
    call = SocketLink.call

    async def slow_town(link, name, **args):  # a town that takes a while to read (a big one, a busy server)
        if name == "town.read":
            await asyncio.sleep(0.5)
        return await call(link, name, **args)

    monkeypatch.setattr(SocketLink, "call", slow_town)
    first = FirstRead.begin(server.town)
    app = AttachedApp(server.town, link=SocketLink(server.town, first), clock=frozen_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: paints, timeout=30, what="the Town screen painted")
        assert paints[0]["town"], f"the Town screen was first painted without the town: {paints[0]}"
        assert paints[0]["pane"] == ["mayor/"], f"no live pane for the mayor in the first paint: {paints[0]}"
        assert paints[0]["feed"] > 0, "the activity feed was first painted empty"
