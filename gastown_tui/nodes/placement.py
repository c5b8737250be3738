"""Placing a polecat on a node: check the node, respect its capacity, make the polecat's clone there and
record where it runs (`<town>/.runtime/nodes/placements.json`, written atomically).

A node that fails its check (unreachable, unknown host key, refused login, missing python/git/agent CLI
/gastown) gets nothing: `preflight` runs before anything is slung."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from gastown_tui.errors import UserError, not_found
from gastown_tui.filelock import file_lock
from gastown_tui.nodes.check import require_ready, rig_agent_programs
from gastown_tui.nodes.git import RemoteWorktree, make_worktree
from gastown_tui.nodes.registry import Node, get_node, load_nodes, save_nodes
from gastown_tui.town.jsonfile import read_json, write_json


def placements_path(town) -> Path:
    return Path(town.root) / ".runtime" / "nodes" / "placements.json"


def load_placements(town) -> dict[str, dict]:
    """agent address -> {"node", "worktree": RemoteWorktree fields}."""
    data = read_json(placements_path(town), default={"placements": {}})
    if not isinstance(data, dict) or not isinstance(data.get("placements"), dict):
        raise UserError(f"{placements_path(town)}: expected an object with a 'placements' object")
    return data["placements"]


def placement_of(town, address: str) -> tuple[str, RemoteWorktree] | None:
    rec = load_placements(town).get(address)
    if rec is None:
        return None
    return rec["node"], RemoteWorktree(**rec["worktree"])


def count_on(town, node: str) -> int:
    return sum(1 for rec in load_placements(town).values() if rec.get("node") == node)


def preflight(town, node_name: str) -> Node:
    """The node, if it is ready and has room; NodeError/UserError (naming the node) otherwise."""
    node = get_node(town, node_name)
    placed = count_on(town, node.name)
    if placed >= node.max_polecats:
        raise UserError(f"node {node.name} is full ({placed} of {node.max_polecats} polecats); nothing was placed there")
    require_ready(node, rig_agent_programs(town))
    return node


def place_polecat(town, node: Node, rig, polecat: str, address: str, branch: str) -> RemoteWorktree:
    wt = make_worktree(node, rig.repo, rig.name, rig.target, polecat, branch)
    with file_lock(placements_path(town).with_suffix(".lock"), what="node placements lock"):
        data = {"placements": load_placements(town)}
        data["placements"][address] = {"node": node.name, "worktree": asdict(wt)}
        write_json(placements_path(town), data)
    return wt


def forget_placement(town, address: str) -> None:
    with file_lock(placements_path(town).with_suffix(".lock"), what="node placements lock"):
        data = {"placements": load_placements(town)}
        if data["placements"].pop(address, None) is not None:
            write_json(placements_path(town), data)


def preflight_rig(town, node_name: str, target: str) -> Node:
    """`sling --node`: the target must be a rig (a new polecat), and the node ready with room."""
    from gastown_tui.town.rigs import load_registry

    if target.strip().rstrip("/") not in load_registry(town):
        raise UserError(f"--node {node_name}: the target must be a rig (a new polecat is placed on the node), "
                        f"not {target!r}")
    return preflight(town, node_name)


def place_slung(town, node: Node, res) -> RemoteWorktree:
    """After `sling` spawned polecat RES.agent: its clone on the node, on its branch, recorded."""
    from gastown_tui.town.addresses import parse_address
    from gastown_tui.town.rigs import get_rig

    address = parse_address(res.agent)
    rig = get_rig(town, address.rig)
    return place_polecat(town, node, rig, address.name, res.agent, res.branch)


def remove_node(town, name: str, force: bool = False) -> Node:
    nodes = load_nodes(town)
    if name not in nodes:
        raise not_found("node", name, nodes)
    placed = sorted(a for a, rec in load_placements(town).items() if rec.get("node") == name)
    if placed and not force:
        raise UserError(f"node {name} still has polecats placed on it ({', '.join(placed)}); "
                        f"reap them first or use --force")
    node = nodes.pop(name)
    save_nodes(town, nodes)
    return node
