"""The town server's node heartbeat against real sshd "machines": each beat checks every node and caches
its health with the load it measured; a node going down or coming back is one `node_health` event, a
steady node writes none."""
from __future__ import annotations

import json
import sys

import pytest

from gastown_tui.nodes.health import load_health
from gastown_tui.nodes.heartbeat import beat
from gastown_tui.nodes.registry import add_node


def node_events(town) -> list[dict]:
    lines = town.events_path.read_text().splitlines() if town.events_path.exists() else []
    return [json.loads(x)["payload"] for x in lines if json.loads(x)["type"] == "node_health"]


def test_a_beat_caches_each_nodes_health_and_logs_only_the_changes(tmp_path, lab):
    from gastown_tui.town.install import install_town

    town = install_town(tmp_path / "town")
    assert beat(town) == []  # no nodes: nothing checked, nothing logged
    m = lab.machine("n1")
    add_node(town, "n1", f"ssh://{m.user}@{m.address}:{m.port}", dir=str(m.home), python=sys.executable)
    assert beat(town) == [{"node": "n1", "state": "ready"}]
    h = load_health(town)["n1"]
    assert h.reachable and h.ready and h.load1 is not None and h.cores and h.mem_avail_mb
    assert beat(town) == []  # steady: no event
    m.stop()
    [down] = beat(town)
    assert down["node"] == "n1" and down["state"] == "down" and "node n1" in down["reason"]
    assert not load_health(town)["n1"].reachable
    m.start()
    assert beat(town) == [{"node": "n1", "state": "ready"}]
    assert [e["state"] for e in node_events(town)] == ["ready", "down", "ready"]


async def test_the_heartbeat_task_beats_at_once_and_stops_when_cancelled(tmp_path, lab):
    import asyncio

    from gastown_tui.nodes.heartbeat import heartbeat
    from gastown_tui.town.install import install_town
    from waiting import until

    town = install_town(tmp_path / "town")
    m = lab.machine("n1")
    add_node(town, "n1", f"ssh://{m.user}@{m.address}:{m.port}", dir=str(m.home), python=sys.executable)
    task = asyncio.get_running_loop().create_task(heartbeat(town.root, every=60))
    try:
        await until(lambda: "n1" in load_health(town), timeout=60, what="the first beat's health of n1")
        assert load_health(town)["n1"].ready and node_events(town) == [{"node": "n1", "state": "ready"}]
    finally:
        task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
