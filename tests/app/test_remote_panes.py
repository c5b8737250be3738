"""The app attached to a real town server (`gastown server`): panes draw the server's screens, keys arrive once,
only the pane the user types into sizes its agent, and "Stop the town…" stops the server and every agent.

The agent is tests/server/chatter.py (it prints `SIZE CxR` at start and on every resize, and nothing else,
so its screen is stable and can be compared row for row).
"""
from __future__ import annotations

import asyncio
import os

import pytest

from gastown_tui.app import AttachedApp
from gastown_tui.client.socket_link import SocketLink
from kit.waiting import until as wait_until  # (outside a Pilot; helpers.until runs a Pilot's app)
from server.serverkit import ScreenMirror, ServerProcess, connect, make_town, spawn_chatter

from .helpers import fill_form, frozen_clock, palette_run, town_loaded, until

MAYOR = "mayor/"


@pytest.fixture
def server(tmp_path):
    town = make_town(tmp_path / "town")
    proc = ServerProcess(town)
    proc.wait_ready()
    yield proc
    proc.stop()


async def server_screen(server: ServerProcess, agent: str) -> tuple[str, dict]:
    """The agent's screen as the server has it (a full frame to a fresh observer), as text rows."""
    mirror = ScreenMirror()
    conn = await connect(server, on_event=mirror.feed)
    try:
        await conn.request("subscribe", agents=[agent])
        await wait_until(lambda: agent in mirror.meta, what=f"the server's frame of {agent}")
        return mirror.text(agent), mirror.meta[agent]
    finally:
        await conn.close()


def pane_of(app):
    from widgets.terminal_pane import TerminalPane

    panes = [p for p in app.screen.query(TerminalPane) if p.display and p.session is not None]
    return panes[0] if panes else None


async def attached_to_mayor(server, **size):
    """The server runs the Mayor (a chatter agent, started through a control connection that then closes);
    returns what spawning it answered and an app attached to the server."""
    control = await connect(server)
    spawned = await spawn_chatter(control, server.town, MAYOR, rate=0, **size)
    await control.close()
    return spawned, AttachedApp(server.town, link=SocketLink(server.town), clock=frozen_clock)


async def test_the_pane_shows_the_servers_screen_row_for_row_and_keys_arrive_once(server):
    _, app = await attached_to_mayor(server, cols=90, rows=20)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await until(pilot, lambda: app.controller.sessions is not None and app.controller.sessions.get(MAYOR),
                    timeout=20, what="the mayor's session from the server")
        await until(pilot, lambda: pane_of(app) is not None and "SIZE 90x20" in pane_of(app).session.screen.text(),
                    timeout=20, what="the mayor's screen in a pane")
        remote = pane_of(app).session.screen
        text, meta = await server_screen(server, MAYOR)
        assert (remote.cols, remote.rows) == (meta["cols"], meta["rows"]) == (90, 20)
        assert remote.text() == text, "the pane's rows differ from the server's"

        await pilot.press("enter")  # type into the pane: this app now owns the mayor's keys and size
        await until(pilot, lambda: any(line.strip().startswith("SIZE ") and line.strip() != "SIZE 90x20"
                                       for line in remote.text().split("\n")),
                    timeout=20, what="the mayor resized to the pane the user types into")
        await pilot.press(*"zqx")
        await until(pilot, lambda: "zqx" in remote.text(), timeout=20, what="the typed keys echoed")
        text, _ = await server_screen(server, MAYOR)
        assert text.count("zqx") == 1 and remote.text().count("zqx") == 1, text


async def test_stop_the_town_from_the_palette_stops_the_server_and_its_agents(server):
    spawned, app = await attached_to_mayor(server)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await until(pilot, lambda: app.controller.sessions is not None and app.controller.sessions.get(MAYOR),
                    timeout=20, what="the mayor's session from the server")
        await palette_run(pilot, "Stop the town")
        await fill_form(pilot, "no")  # anything but yes: nothing stops
        assert not [w for w in app.workers if w.group == "stop-town"], "'no' started stopping the town"
        assert server.proc.poll() is None and os.path.exists(f"/proc/{spawned['pid']}")
        await palette_run(pilot, "Stop the town")
        await fill_form(pilot, "yes")
    await asyncio.to_thread(server.proc.wait, 60)
    assert server.proc.returncode is not None

    def gone() -> bool:
        try:
            with open(f"/proc/{spawned['pid']}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            return True

    await wait_until(gone, what="the mayor's process to end after 'Stop the town'")


async def test_the_app_reconnects_by_itself_when_the_server_comes_back(server, tmp_path):
    """The server goes and a new one serves the same town (what an upgrade in place or a keeper restart does):
    the app attaches again by itself and shows the agent the new server runs."""
    _, app = await attached_to_mayor(server, cols=90, rows=20)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await until(pilot, lambda: pane_of(app) is not None and "SIZE 90x20" in pane_of(app).session.screen.text(),
                    timeout=20, what="the mayor's screen in a pane")
        first_pid = app.controller.sessions.get(MAYOR).pid
        await asyncio.to_thread(server.stop)
        again = ServerProcess(server.town)
        try:
            await asyncio.to_thread(again.wait_ready)
            control = await connect(again)
            await spawn_chatter(control, again.town, MAYOR, rate=0, cols=70, rows=15)
            await control.close()
            await until(pilot, lambda: app.controller.sessions.get(MAYOR) is not None
                        and app.controller.sessions.get(MAYOR).pid != first_pid
                        and pane_of(app) is not None and "SIZE 70x15" in pane_of(app).session.screen.text(),
                        timeout=40, what="the new server's mayor in the pane after reconnecting")
            assert not [n for n in app._notifications if n.severity == "error"], \
                [n.message for n in app._notifications]
        finally:
            again.stop()


async def test_stopping_an_agent_from_the_app_stops_it_in_the_server(server):
    control = await connect(server)
    spawned = await spawn_chatter(control, server.town, MAYOR, rate=0)
    app = AttachedApp(server.town, link=SocketLink(server.town), clock=frozen_clock)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await town_loaded(pilot)
            await until(pilot, lambda: app.controller.sessions is not None and app.controller.sessions.get(MAYOR),
                        timeout=20, what="the mayor's session from the server")
            await palette_run(pilot, "Stop agent")
            await fill_form(pilot, MAYOR)
            await until(pilot, lambda: app.controller.sessions.get(MAYOR).exited, timeout=30,
                        what="the mayor's session exited, as the app sees it")
            status = await control.request("status")
            mayor = next(a for a in status["agents"] if a["address"] == MAYOR)
            assert mayor["pid"] == spawned["pid"] and not mayor["alive"]
            assert any("stop done" in n.message for n in app._notifications)
    finally:
        await control.close()


async def test_scrollback_and_search_in_a_remote_pane_read_the_servers_history(server):
    """The agent printed far more lines than its screen holds: in scrollback mode the pane reaches the first
    of them (the server's history pages), and `/` search finds one that scrolled off long ago."""
    control = await connect(server)
    await spawn_chatter(control, server.town, MAYOR, rate=8000, cols=90, rows=20)
    app = AttachedApp(server.town, link=SocketLink(server.town), clock=frozen_clock)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await town_loaded(pilot)
            await until(pilot, lambda: pane_of(app) is not None and "n=00000003" in pane_of(app).session.screen.text(),
                        timeout=30, what="the mayor 300 lines on: far past its first screenful")
            pane = pane_of(app)
            await pilot.press("enter")  # into the pane
            await pilot.press(app.app_settings.prefix_key, "left_square_bracket")
            await until(pilot, lambda: pane.mode == "scrollback", what="scrollback mode")
            await until(pilot, lambda: pane.session.screen.history is not None, what="the server's history fetched")
            await pilot.press("g")  # to the top
            await until(pilot, lambda: any("n=0000000000" in row.text
                                           for row in pane.session.screen.render(dirty_only=False).rows.values()),
                        what="the first line the agent printed, in view")
            await pilot.press("G")
            await until(pilot, lambda: pane.mode == "live", what="back to live")
            assert pane.search("n=0000000005")
            assert pane.session.screen.viewport_offset > 0
    finally:
        await control.close()


async def test_an_agent_taller_than_its_pane_shows_the_rows_around_its_cursor(server):
    """A bigger client (a browser tab) sized the agent: this pane, an observer, crops it the way tmux does,
    keeping the cursor's rows (the newest output) in sight rather than the top of the screen."""
    import base64

    control = await connect(server)
    await spawn_chatter(control, server.town, MAYOR, rate=0, cols=90, rows=120)
    app = AttachedApp(server.town, link=SocketLink(server.town), clock=frozen_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await town_loaded(pilot)
        await until(pilot, lambda: pane_of(app) is not None and "SIZE 90x120" in pane_of(app).session.screen.text(),
                    timeout=20, what="the mayor's screen in a pane")
        pane = pane_of(app)
        assert pane.size.height < 120
        lines = "".join(f"echo line-{i:03d}\r" for i in range(100)).encode()
        await control.request("input", agent=MAYOR, data=base64.b64encode(lines).decode())

        def shown() -> str:
            return "\n".join(pane.render_line(y).text for y in range(pane.size.height))

        await until(pilot, lambda: "line-099" in shown(), timeout=20,
                    what="the newest output, at the bottom of a 120-row agent, in a shorter pane")
        assert "SIZE 90x120" not in shown()  # the top of the agent's screen is what is cropped
        assert pane.session.screen.rows == 120  # an observer never resizes the agent
    await control.close()
