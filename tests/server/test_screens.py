"""Screens as changed rows, keys in, and who may set an agent's terminal size."""
from __future__ import annotations

import asyncio
import base64

import pytest

from gastown_tui.client.connection import RemoteError
from server.serverkit import ScreenMirror, connect, spawn_chatter
from waiting import until


def _mirror(conn) -> ScreenMirror:
    m = ScreenMirror()
    conn.on_event = m.feed
    return m


async def test_screen_stream_follows_the_agent_and_keys_arrive_once(server):
    conn = await connect(server, interactive=True)
    m = _mirror(conn)
    await conn.request("spawn", agent="mayor", argv=["cat"], cwd=str(server.town), cols=80, rows=24)
    reply = await conn.request("subscribe", agents=["mayor"])
    assert len(reply["agents"]) == 1 and reply["missing"] == []
    agent = reply["agents"][0]
    assert await until(lambda: agent in m.meta)
    assert m.meta[agent]["full"] and m.meta[agent]["cols"] == 80 and m.meta[agent]["rows"] == 24
    await conn.request("focus", agent=agent)
    await conn.request("input", agent=agent, data=base64.b64encode(b"hello server\r").decode())
    # cat echoes the line (the PTY's echo) and prints it back: exactly twice, not more.
    assert await until(lambda: m.text(agent).count("hello server") == 2), m.text(agent)
    # A later line that comes back twice proves every earlier byte was echoed: no third copy follows.
    await conn.request("input", agent=agent, data=base64.b64encode(b"after\r").decode())
    assert await until(lambda: m.text(agent).count("after") == 2), m.text(agent)
    assert m.text(agent).count("hello server") == 2
    hist = await conn.request("history", agent=agent, start=0, count=10)
    assert any("hello server" in line for line in hist["lines"])
    await conn.close()


async def test_two_clients_of_other_sizes_do_not_resize_the_agent(server):
    a = await connect(server, interactive=True)
    ma = _mirror(a)
    await spawn_chatter(a, server.town, "mayor", rate=0, cols=100, rows=30)
    agent = (await a.request("subscribe", agents=["mayor"]))["agents"][0]
    await a.request("focus", agent=agent)
    assert await until(lambda: "SIZE 100x30" in ma.text(agent)), ma.text(agent)
    # A second interactive client that only shows the agent (a grid thumbnail: no focus), and an observer.
    b = await connect(server, interactive=True)
    mb = _mirror(b)
    obs = await connect(server, interactive=False)
    await b.request("subscribe", agents=[agent])
    for conn in (b, obs):
        with pytest.raises(RemoteError) as err:
            await conn.request("resize", agent=agent, cols=60, rows=20)
        assert err.value.code == "size-not-yours"
    await obs.request("focus", agent=agent)  # an observer's focus never gives it the size
    with pytest.raises(RemoteError):
        await obs.request("resize", agent=agent, cols=60, rows=20)
    assert await until(lambda: agent in mb.meta)
    assert (mb.meta[agent]["cols"], mb.meta[agent]["rows"]) == (100, 30)
    st = await a.request("status")
    assert [(x["cols"], x["rows"]) for x in st["agents"]] == [(100, 30)]
    assert "SIZE 60x20" not in ma.text(agent)
    # The focused interactive client may resize; the size stays when it leaves.
    assert await a.request("resize", agent=agent, cols=90, rows=25) == {"cols": 90, "rows": 25}
    assert await until(lambda: "SIZE 90x25" in mb.text(agent)), mb.text(agent)
    await a.close()
    st = await b.request("status")
    for _ in range(1000):  # until the server has seen the first client leave (each round is a request)
        if len(st["clients"]) == 2:
            break
        st = await b.request("status")
    assert len(st["clients"]) == 2, st["clients"]
    assert [(x["cols"], x["rows"]) for x in st["agents"]] == [(90, 25)]
    # The latest interactive client to focus it takes the claim.
    await b.request("focus", agent=agent)
    assert await b.request("resize", agent=agent, cols=70, rows=20) == {"cols": 70, "rows": 20}
    await b.close()
    await obs.close()


async def test_a_browser_resizes_an_agent_only_while_it_is_the_towns_only_screen(server):
    web = await connect(server, interactive=True, client="web")
    mw = _mirror(web)
    await spawn_chatter(web, server.town, "mayor", rate=0, cols=100, rows=30)
    agent = (await web.request("subscribe", agents=["mayor"]))["agents"][0]
    await web.request("focus", agent=agent)
    assert await until(lambda: "SIZE 100x30" in mw.text(agent)), mw.text(agent)
    # Alone, the focused browser tab may size the agent to its pane.
    assert await web.request("resize", agent=agent, cols=80, rows=24) == {"cols": 80, "rows": 24}
    # With a terminal app attached too (not even focused on it), the phone never reshapes the agent.
    app = await connect(server, interactive=True, client="app")
    with pytest.raises(RemoteError) as err:
        await web.request("resize", agent=agent, cols=55, rows=40)
    assert err.value.code == "size-not-yours"
    st = await app.request("status")
    assert [(x["cols"], x["rows"]) for x in st["agents"]] == [(80, 24)]
    assert "SIZE 55x40" not in mw.text(agent)
    await app.close()
    await web.close()


async def test_state_and_lifecycle_events_reach_watchers(server):
    w = await connect(server)
    await w.request("watch", topics=["lifecycle", "state"])
    c = await connect(server)
    started = await spawn_chatter(c, server.town, "deacon", rate=0)
    ev = await asyncio.wait_for(w.events.get(), 30)
    while ev["event"] != "lifecycle":
        ev = await asyncio.wait_for(w.events.get(), 30)
    assert ev["what"] == "started" and ev["pid"] == started["pid"]
    await c.request("stop", agent=started["agent"])
    seen = []
    while not any(e.get("what") == "exited" for e in seen):
        seen.append(await asyncio.wait_for(w.events.get(), 30))
    await w.close()
    await c.close()


async def test_keys_typed_while_a_nudge_is_typed_wait_for_it_and_the_nudge_arrives_once(server):
    import json

    from gastown_tui.town.nudges import enqueue

    conn = await connect(server, interactive=True)
    m = _mirror(conn)
    agent = (await conn.request("spawn", agent="mayor", preset="shell", argv=["cat"], cwd=str(server.town),
                                cols=100, rows=20))["agent"]
    await conn.request("subscribe", agents=[agent])
    await conn.request("focus", agent=agent)
    text = "NUDGE-XYZ-123"
    enqueue(server.town / ".runtime" / "nudge_queue", agent, text, sender="tester")
    assert await until(lambda: text in m.text(agent), timeout=60), m.text(agent)
    # The nudge's text is on the screen, its Enter not yet pressed: a key typed now must not go in before it.
    await conn.request("input", agent=agent, data=base64.b64encode(b"k").decode())
    assert await until(lambda: m.text(agent).count(text) == 2 and "k" in m.text(agent)), m.text(agent)
    lines = [line.rstrip() for line in m.text(agent).splitlines() if text in line]
    assert len(lines) == 2 and all(line.endswith(text) for line in lines), lines  # never "...123k"
    folder = server.town / ".runtime" / "nudge_queue" / "mayor"
    assert await until(lambda: (folder / "delivered.jsonl").exists())
    delivered = [json.loads(x) for x in (folder / "delivered.jsonl").read_text().splitlines()]
    assert [d["message"] for d in delivered] == [text]
    assert not list(folder.glob("*.json")) and not list(folder.glob("*.delivering"))
    await conn.close()


FAST_WRITER = ("import itertools, sys, time\n"
               "for n in itertools.count():\n"
               "    sys.stdout.write(f'fast {n:08d}\\r\\n'); sys.stdout.flush(); time.sleep(0.002)\n")


async def test_a_pane_nobody_types_into_gets_at_most_30_frames_a_second_and_an_echo_does_not_wait(server):
    """An agent printing 500 times a second is rendered and sent at most once a frame (30 Hz), not once per
    write; keys typed into another agent still come back (the focused pane's echo goes out at once)."""
    import sys
    import time

    conn = await connect(server, interactive=True)
    m = _mirror(conn)
    fast = (await conn.request("spawn", agent="mayor", argv=[sys.executable, "-c", FAST_WRITER],
                               cwd=str(server.town), cols=80, rows=24))["agent"]
    echo = (await conn.request("spawn", agent="deacon", argv=["cat"], cwd=str(server.town), cols=80,
                               rows=24))["agent"]
    await conn.request("subscribe", agents=[fast, echo])
    await conn.request("focus", agent=echo)
    assert await until(lambda: "fast " in m.text(fast), timeout=30)
    counts: dict[str, int] = {}
    seen = m.feed

    def count(event: dict) -> None:
        if event.get("event") == "screen":
            counts[event["agent"]] = counts.get(event["agent"], 0) + 1
        seen(event)

    conn.on_event = count
    t0 = time.monotonic()
    await conn.request("input", agent=echo, data=base64.b64encode(b"typed here\r").decode())
    assert await until(lambda: m.text(echo).count("typed here") == 2, timeout=10), m.text(echo)
    await until(lambda: time.monotonic() - t0 >= 2.0, timeout=5, what="two seconds of output")
    took = time.monotonic() - t0
    assert 0 < counts.get(fast, 0) <= took * 30 + 3, (counts, took)
    await conn.close()
