"""What the app shows of the town's nodes: which node each polecat runs on, and each node's health (its
last check: up or down, ready, load, memory) with its polecats against its maximum. File reads only
(settings/nodes.json, the placements, the health cache): no ssh, cheap enough for every read of the town."""
from __future__ import annotations

from dataclasses import dataclass

from gastown_tui.nodes.health import load_health
from gastown_tui.nodes.placement import load_placements, placements_path
from gastown_tui.nodes.registry import load_nodes, nodes_path


@dataclass(frozen=True)
class NodeStatus:
    name: str
    up: bool | None  # None: never checked
    ready: bool
    placed: int
    max_polecats: int
    load1: float | None = None
    cores: int | None = None
    mem_avail_mb: int | None = None
    checked_at: float | None = None
    problem: str = ""


def agent_nodes(town) -> dict[str, str]:
    """agent address -> the node it runs on (agents on the town machine are absent)."""
    if not placements_path(town).exists():
        return {}
    return {address: str(rec.get("node")) for address, rec in load_placements(town).items()}


def node_statuses(town, placed: dict[str, str] | None = None) -> list[NodeStatus]:
    """Every registered node, by name, with its last check and its polecats (PLACED: agent_nodes())."""
    if not nodes_path(town).exists():
        return []
    placed = agent_nodes(town) if placed is None else placed
    health = load_health(town)
    out = []
    for node in sorted(load_nodes(town).values(), key=lambda n: n.name):
        h = health.get(node.name)
        n = sum(1 for where in placed.values() if where == node.name)
        if h is None:
            out.append(NodeStatus(node.name, None, False, n, node.max_polecats))
        else:
            out.append(NodeStatus(node.name, h.reachable, h.ready, n, node.max_polecats, h.load1, h.cores,
                                  h.mem_avail_mb, h.at, h.problems[0] if h.problems else ""))
    return out
