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
