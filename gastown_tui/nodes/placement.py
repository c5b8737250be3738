"""Placing a polecat: on the town machine ("local") or on a node; checking the node, respecting its
capacity, making the polecat's clone there and recording where it runs
(`<town>/.runtime/nodes/placements.json`, written atomically).

Where a new polecat goes (`plan`): `sling --node NAME` forces NAME. Otherwise the places the rig allows
(its settings' `"nodes": ["local", "mini1", ...]`; absent: the town machine and every node) are weighed by
`choose`, a pure function: a place that is not ready (its check fails, it is down) or full gets nothing;
of the rest, the fewest polecats relative to its maximum wins (a node's `--max-polecats`; the town
machine's `local_max_polecats` in `settings/config.json`, default 4), then the lowest measured load
average per core, then the most free memory, then the town machine, then the name. Node health comes
from `nodes/health.py`: cached for 120 s (the town server's heartbeat checks every 60 s), measured again
when older. With no nodes registered nothing is measured: the polecat is local, as it always was.

A node that fails its check (unreachable, unknown host key, refused login, missing python/git/agent CLI
/gastown) gets nothing: `plan` runs before anything is slung."""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from gastown_tui.errors import UserError, not_found
from gastown_tui.filelock import file_lock
from gastown_tui.nodes.check import require_ready, rig_agent_programs
from gastown_tui.nodes.git import RemoteWorktree, clone_worktree, make_worktree, push_mirror
from gastown_tui.nodes.registry import Node, get_node, load_nodes, save_nodes
from gastown_tui.town.jsonfile import read_json, write_json
from gastown_tui.nodes.health import LocalLoad, current_health
from gastown_tui.town.addresses import parse_address
from gastown_tui.town.events import append_event
from gastown_tui.town.polecats import list_polecats
from gastown_tui.town.rigs import get_rig
from gastown_tui.town.rigs import load_registry
from gastown_tui.town.settings import TownSettings
from gastown_tui.town.sling import sling


def placements_path(town) -> Path:
    return Path(town.root) / ".runtime" / "nodes" / "placements.json"


def placing_dir(town) -> Path:
    """`<bead>.json` per sling still placing its new polecat on a node (hooked, clone not yet recorded)."""
    return Path(town.root) / ".runtime" / "nodes" / "placing"


@contextmanager
def _placing(town, bead: str, node: str):
    """While the sling of BEAD hooks it and makes the clone on NODE, a marker says so: a running town
    server's session manager waits for the placement (nodes/provider.py `settle`) instead of starting the
    new polecat on the town machine the moment its hook shows in the ledger."""
    folder = placing_dir(town)
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f"{bead}.json"
    write_json(marker, {"node": node, "pid": os.getpid()})
    try:
        yield
    finally:
        marker.unlink(missing_ok=True)


def placing_beads(town) -> set[str]:
    """Beads whose sling is placing their polecat on a node right now (a marker whose sling process
    died is ignored)."""
    try:
        names = [n for n in os.listdir(placing_dir(town)) if n.endswith(".json")]
    except FileNotFoundError:
        return set()
    out = set()
    for name in names:
        try:
            pid = int(read_json(placing_dir(town) / name, default={}).get("pid") or 0)
            if pid <= 0:
                continue
            os.kill(pid, 0)
        except (UserError, ValueError, AttributeError, ProcessLookupError, OverflowError):
            continue
        except PermissionError:
            pass
        out.add(name[: -len(".json")])
    return out


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


LOCAL = "local"
DEFAULT_LOCAL_MAX = 4


@dataclass(frozen=True)
class Candidate:
    """One place a polecat could run, as placement sees it."""
    name: str  # LOCAL or a node's name
    placed: int  # polecats running there now
    max: int
    ready: bool = True
    load: float | None = None  # 1-minute load average per core (None: not measured)
    mem_avail_mb: int | None = None
    problem: str = ""  # why it is not ready (one line)


@dataclass(frozen=True)
class Choice:
    where: str | None  # LOCAL, a node's name, or None: nowhere has room
    why: str  # one line: why there (or why nowhere)


def choose(candidates: list[Candidate]) -> Choice:
    """Where the next polecat runs: of the ready places with room, the fewest polecats relative to its
    maximum, then the lowest load per core (unmeasured last), then the most free memory, then the town
    machine, then the name. Pure: no files, no ssh."""
    usable, refused = [], []
    for c in candidates:
        if not c.ready:
            refused.append(f"{c.name} is not ready ({c.problem or 'its check failed'})")
        elif c.placed >= c.max:
            refused.append(f"{c.name} is full ({c.placed}/{c.max})")
        else:
            usable.append(c)
    if not usable:
        return Choice(None, "no place has room: " + "; ".join(refused) if refused else "no place is allowed")

    def key(c: Candidate):
        return (c.placed / c.max, c.load if c.load is not None else float("inf"), -(c.mem_avail_mb or 0),
                c.name != LOCAL, c.name)

    best = min(usable, key=key)
    load = f", load {best.load:.2f}/core" if best.load is not None else ""
    return Choice(best.name, f"{best.name} has {best.placed}/{best.max} polecats{load}")


def rig_places(town, rig) -> list[str] | None:
    """The places a rig's polecats may run (its settings' "nodes"), or None: anywhere."""

    value = rig.settings.data.get("nodes")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or not value:
        raise UserError(f"{rig.settings_path}: nodes must be a non-empty list of node names "
                        f"(\"local\" is the town machine)")
    known = load_nodes(town)
    for v in value:
        if v != LOCAL and v not in known:
            raise UserError(f"{rig.settings_path}: nodes lists {v!r}, which is not a node "
                            f"(known: {', '.join([LOCAL, *sorted(known)])})")
    return list(dict.fromkeys(value))


def local_max(town) -> int:
    """The town machine's own maximum of polecats (settings/config.json `local_max_polecats`)."""

    settings = TownSettings.load(town.settings_path)
    value = settings.data.get("local_max_polecats", DEFAULT_LOCAL_MAX)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise UserError(f"{town.settings_path}: local_max_polecats must be a whole number >= 0 "
                        f"(0: no polecats on the town machine)")
    return value


def live_counts(town) -> tuple[int, dict[str, int]]:
    """(polecats on the town machine, node -> polecats placed there), counting only polecats that still
    exist (a reaped polecat's placement no longer takes room)."""

    alive = {p.address for p in list_polecats(town)}
    placements = load_placements(town) if placements_path(town).exists() else {}
    on_nodes: dict[str, int] = {}
    for address, rec in placements.items():
        if address in alive:
            on_nodes[rec.get("node")] = on_nodes.get(rec.get("node"), 0) + 1
    return len(alive) - sum(on_nodes.values()), on_nodes


def candidates(town, rig, exclude: frozenset[str] = frozenset()) -> list[Candidate]:
    """The places RIG's next polecat may go, measured (node health from the cache, or checked now); the
    nodes in EXCLUDE are not among them (a node just given up, for the work it was running)."""

    allowed = rig_places(town, rig)
    nodes = load_nodes(town)
    names = allowed if allowed is not None else [LOCAL, *sorted(nodes)]
    names = [n for n in names if n not in exclude]
    local_n, on_nodes = live_counts(town)
    out = []
    if LOCAL in names:
        here = LocalLoad.now()
        load = here.load1 / max(1, here.cores or 1) if here.load1 is not None else None
        out.append(Candidate(LOCAL, local_n, local_max(town), True, load, here.mem_avail_mb))
    wanted = [nodes[n] for n in names if n != LOCAL]
    with_room = [n for n in wanted if on_nodes.get(n.name, 0) < n.max_polecats]  # a full node is not checked
    health = current_health(town, with_room, rig_agent_programs(town)) if with_room else {}
    for node in wanted:
        h = health.get(node.name)
        placed = on_nodes.get(node.name, 0)
        if h is None:  # full: not checked
            out.append(Candidate(node.name, placed, node.max_polecats))
        else:
            out.append(Candidate(node.name, placed, node.max_polecats, h.ready, h.load_per_core, h.mem_avail_mb,
                                 "; ".join(h.problems)))
    return out


def preflight(town, node_name: str) -> Node:
    """The node, if it is ready and has room; NodeError/UserError (naming the node) otherwise."""
    node = get_node(town, node_name)
    placed = live_counts(town)[1].get(node.name, 0)
    if placed >= node.max_polecats:
        raise UserError(f"node {node.name} is full ({placed} of {node.max_polecats} polecats); nothing was placed there")
    require_ready(node, rig_agent_programs(town))
    return node


def place_polecat(town, node: Node, rig, polecat: str, address: str, branch: str,
                  mirror_rel: str | None = None) -> RemoteWorktree:
    """The polecat's clone on NODE (MIRROR_REL: the rig's target was pushed to the node already), recorded."""
    if mirror_rel is None:
        wt = make_worktree(node, rig.repo, rig.name, rig.target, polecat, branch)
    else:
        wt = clone_worktree(node, mirror_rel, rig.name, rig.target, polecat, branch)
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

    if target.strip().rstrip("/") not in load_registry(town):
        raise UserError(f"--node {node_name}: the target must be a rig (a new polecat is placed on the node), "
                        f"not {target!r}")
    return preflight(town, node_name)


def plan(town, target: str, forced: str | None = None, exclude: frozenset[str] = frozenset()) -> Node | None:
    """Where a sling to TARGET puts its new polecat: a Node, or None for the town machine (also for a
    target that is not a rig: no new polecat). UserError, naming each place and why, when the rig's
    allowed places have no room or none is ready; nothing was slung then."""
    if forced:
        return preflight_rig(town, forced, target)

    name = target.strip().rstrip("/")
    if name not in load_registry(town):
        return None
    rig = get_rig(town, name)
    if not load_nodes(town) and rig.settings.data.get("nodes") is None:
        return None  # no nodes: local, as always, and nothing measured
    choice = choose(candidates(town, rig, exclude))
    if choice.where is None:
        raise UserError(f"rig {rig.name}: nowhere to run a new polecat: {choice.why}; nothing was slung")
    return None if choice.where == LOCAL else get_node(town, choice.where)


def mirrors_path(town) -> Path:
    return Path(town.root) / ".runtime" / "nodes" / "mirrors.json"


def _target_sha(rig) -> str | None:
    import subprocess

    res = subprocess.run(["git", "-C", str(rig.repo), "rev-parse", "--verify", "-q", f"refs/heads/{rig.target}"],
                         capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return res.stdout.strip() or None


def ensure_mirror(town, node: Node, rig, force: bool = False) -> str:
    """The node's mirror of the rig holds the rig's target now: pushed unless the town pushed that very
    commit there before (`.runtime/nodes/mirrors.json`; a cache: FORCE pushes anyway). The mirror,
    relative to the node's dir."""
    sha = _target_sha(rig)
    path = mirrors_path(town)
    try:
        known = read_json(path, default={})
    except UserError:
        known = {}
    if not force and sha and isinstance(known, dict) and known.get(f"{node.name}/{rig.name}") == sha:
        return f"repos/{rig.name}.git"
    mirror_rel = push_mirror(node, rig.repo, rig.name, rig.target)
    if sha:
        with file_lock(path.with_suffix(".lock"), what="node mirrors lock"):
            try:
                current = read_json(path, default={})
            except UserError:
                current = {}
            current = current if isinstance(current, dict) else {}
            current[f"{node.name}/{rig.name}"] = sha
            write_json(path, current)
    return mirror_rel


def sling_placed(town, bead: str, target: str, *, node: str | None = None, exclude: frozenset[str] = frozenset(),
                 **kwargs):
    """`sling` with placement (the CLI, the Deacon and the app all come through here): plans where the
    new polecat runs, slings, and makes its clone on the node chosen. (SlingResult, RemoteWorktree|None).
    The rig's target is pushed to the node while the sling makes the polecat here. When an automatically
    chosen node fails meanwhile, the polecat stays on the town machine (if the rig allows it) and a
    `placement_failed` event says why; a forced node's failure is an error. EXCLUDE: nodes not to use."""
    from concurrent.futures import ThreadPoolExecutor

    chosen = plan(town, target, forced=node, exclude=frozenset(exclude))
    if chosen is None:
        return sling(town, bead, target, **kwargs), None
    rig = get_rig(town, target.strip().rstrip("/"))
    with _placing(town, bead, chosen.name), ThreadPoolExecutor(max_workers=1, thread_name_prefix="node-push") as pool:
        pushing = pool.submit(ensure_mirror, town, chosen, rig)
        res = sling(town, bead, target, **kwargs)
        try:
            mirror_rel = pushing.result()
            if not res.spawned:
                return res, None
            try:
                return res, place_slung(town, chosen, res, mirror_rel)
            except UserError:  # the mirror the cache vouched for may be gone from the node: push, once more
                return res, place_slung(town, chosen, res, ensure_mirror(town, chosen, rig, force=True))
        except UserError as exc:
            if node or not _local_allowed(town, target):
                raise

            append_event(town.events_path, "placement_failed", kwargs.get("actor") or "overseer", agent=res.agent,
                         node=chosen.name, reason=str(exc), fallback=LOCAL)
            return res, None


def placing_sling(town, bead: str, target: str, **kwargs):
    """`town.sling.sling` with placement: the Deacon's sling in the town server. Its SlingResult."""
    return sling_placed(town, bead, target, **kwargs)[0]


def _local_allowed(town, target: str) -> bool:
    places = rig_places(town, get_rig(town, target.strip().rstrip("/")))
    return places is None or LOCAL in places


def place_slung(town, node: Node, res, mirror_rel: str | None = None) -> RemoteWorktree:
    """After `sling` spawned polecat RES.agent: its clone on the node, on its branch, recorded."""

    address = parse_address(res.agent)
    rig = get_rig(town, address.rig)
    return place_polecat(town, node, rig, address.name, res.agent, res.branch, mirror_rel)


def remove_node(town, name: str, force: bool = False) -> Node:
    nodes = load_nodes(town)
    if name not in nodes:
        raise not_found("node", name, nodes)

    alive = {p.address for p in list_polecats(town)}  # a reaped polecat's placement does not hold the node
    placed = sorted(a for a, rec in load_placements(town).items() if rec.get("node") == name and a in alive)
    if placed and not force:
        raise UserError(f"node {name} still has polecats placed on it ({', '.join(placed)}); "
                        f"reap them first or use --force")
    node = nodes.pop(name)
    save_nodes(town, nodes)
    return node
