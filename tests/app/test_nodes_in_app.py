"""Nodes in the app (issue 14): a polecat placed on a node carries the node's name in the agent tree, and
the header shows each node's health (up with n/max and load, DOWN, not checked) — read by the town's read
model (server/api.py) from the town's real files: settings/nodes.json, the placements and the health cache."""
from __future__ import annotations

import json
import time

from widgets.agent_tree import AgentTree
from widgets.town_header import TownHeader

from .helpers import make_app, town_loaded, until


def polecats(root) -> list[str]:
    out = []
    for line in (root / ".events.jsonl").read_text().splitlines():
        e = json.loads(line)
        agent = e["payload"].get("agent") if isinstance(e.get("payload"), dict) else None
        if agent and "/polecats/" in agent and agent not in out:
            out.append(agent)
    return out


def place_on_nodes(root, address: str) -> None:
    from gastown_tui.nodes.health import NodeHealth, record
    from gastown_tui.nodes.registry import add_node
    from gastown_tui.town.jsonfile import write_json
    from gastown_tui.town.layout import Town

    town = Town(root)
    add_node(town, "mini1", "ssh://ann@10.0.0.7", max_polecats=4)
    add_node(town, "mini2", "ssh://ann@10.0.0.8", max_polecats=2)
    add_node(town, "mini3", "ssh://ann@10.0.0.9")
    write_json(root / ".runtime" / "nodes" / "placements.json", {"placements": {address: {"node": "mini1", "worktree": {
        "node": "mini1", "rig": "x", "polecat": "x", "branch": "polecat/x/y", "root": "/n", "mirror": "/n/r.git",
        "path": "/n/p"}}}})
    record(town, NodeHealth("mini1", time.time(), True, True, (), 1.04, 2, 8000, 5000, "0.1.0"),
           NodeHealth("mini2", time.time(), False, False, ("node mini2 (ann@10.0.0.8): connection refused",)))


def tree_lines(tree) -> list[str]:
    lines, todo = [], [tree.root]
    while todo:
        node = todo.pop(0)
        lines.append(str(node.label))
        todo[:0] = list(node.children)
    return lines


async def test_the_tree_tags_remote_agents_and_the_header_shows_each_nodes_health(fresh_town):
    from gastown_tui.server.api import reading_of
    from gastown_tui.server.reading import Reading
    from gastown_tui.town.layout import Town

    remote = polecats(fresh_town)[0]
    place_on_nodes(fresh_town, remote)
    reading = Reading.from_json(json.loads(json.dumps(reading_of(Town(fresh_town)).to_json())))  # as on the wire
    nodes = {a.address: a.node for a in reading.town.agents}
    assert nodes[remote] == "mini1" and sum(1 for n in nodes.values() if n) == 1
    assert [(n.name, n.up, n.placed, n.max_polecats) for n in reading.town.nodes] == [
        ("mini1", True, 1, 4), ("mini2", False, 0, 2), ("mini3", None, 0, 4)]

    app = make_app(fresh_town)
    async with app.run_test(size=(240, 50)) as pilot:
        await town_loaded(pilot)
        await until(pilot, lambda: "mini1" in app.screen.query_one(TownHeader).text.plain,
                    what="the nodes in the header")
        header = app.screen.query_one(TownHeader).text.plain
        assert "mini1 up 1/4 load 0.52" in header and "mini2 DOWN 0/2" in header and "mini3 unchecked 0/4" in header
        lines = tree_lines(app.screen.query_one(AgentTree))
        name = remote.rsplit("/", 1)[-1]
        tagged = [line for line in lines if "@mini1" in line]
        assert len(tagged) == 1 and name in tagged[0], lines
