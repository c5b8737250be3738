"""Each node's last measured health: reachable or not, ready or not (what `node check` lacks), its load
average, cores and memory. Kept in `<town>/.runtime/nodes/health.json` (written atomically under a lock),
written by every check (`gastown node check`, placement, the town server's heartbeat) and read by
placement and the app.

It is a cache: derived, disposable. An unreadable file reads as empty (placement then checks again),
never as an error that stops a sling."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from gastown_tui.errors import UserError
from gastown_tui.filelock import file_lock
from gastown_tui.nodes.registry import Node
from gastown_tui.town.jsonfile import read_json, write_json
from gastown_tui.nodes.check import probe
from gastown_tui.nodes.ssh import NodeError

MAX_AGE = 120.0  # seconds a check stays good enough for placement (two heartbeats)


@dataclass(frozen=True)
class NodeHealth:
    node: str
    at: float  # time.time() of the check
    reachable: bool
    ready: bool
    problems: tuple[str, ...] = ()
    load1: float | None = None
    cores: int | None = None
    mem_total_mb: int | None = None
    mem_avail_mb: int | None = None
    gastown: str | None = None

    @property
    def load_per_core(self) -> float | None:
        if self.load1 is None:
            return None
        return self.load1 / max(1, self.cores or 1)

    def fresh(self, now: float | None = None, max_age: float = MAX_AGE) -> bool:
        return ((now if now is not None else time.time()) - self.at) <= max_age

    def to_dict(self) -> dict:
        return {**asdict(self), "problems": list(self.problems)}

    @classmethod
    def from_dict(cls, data: dict) -> "NodeHealth":
        names = {f.name for f in fields(cls)}
        rec = {k: v for k, v in data.items() if k in names}
        rec["problems"] = tuple(rec.get("problems") or ())
        return cls(**rec)


def health_path(town) -> Path:
    return Path(town.root) / ".runtime" / "nodes" / "health.json"


def load_health(town) -> dict[str, NodeHealth]:
    try:
        data = read_json(health_path(town), default={"nodes": {}})
        return {name: NodeHealth.from_dict(rec) for name, rec in (data.get("nodes") or {}).items()}
    except (UserError, AttributeError, TypeError, ValueError):
        return {}  # a cache: a broken one is checked again, never trusted


def record(town, *healths: NodeHealth) -> None:
    path = health_path(town)
    with file_lock(path.with_suffix(".lock"), what="node health lock"):
        current = load_health(town)
        for h in healths:
            current[h.node] = h
        write_json(path, {"nodes": {name: h.to_dict() for name, h in sorted(current.items())}})


def measure(node: Node, agents: list[str], fresh: bool = False) -> NodeHealth:
    """node check's probe: the node's health now (FRESH: by a login of its own, not the shared connection).
    Never raises for the node's own faults."""

    try:
        facts = probe(node, agents, timeout=30.0, fresh=fresh)
    except NodeError as exc:
        return unreachable(node.name, str(exc))
    return of_facts(facts)


def unreachable(name: str, error: str) -> NodeHealth:
    return NodeHealth(name, time.time(), reachable=False, ready=False, problems=(error,))


def of_facts(facts) -> NodeHealth:
    """The health a check's NodeFacts say."""
    problems = tuple(facts.problems())
    return NodeHealth(facts.node, time.time(), reachable=True, ready=not problems, problems=problems,
                      load1=facts.load1, cores=facts.cores, mem_total_mb=facts.mem_total_mb,
                      mem_avail_mb=facts.mem_avail_mb, gastown=facts.gastown)


def measure_all(town, nodes: list[Node], agents: list[str], fresh: bool = False) -> dict[str, NodeHealth]:
    """Every node checked at once (one ssh each, in threads), recorded in the cache."""
    if not nodes:
        return {}
    with ThreadPoolExecutor(max_workers=min(8, len(nodes)), thread_name_prefix="node-check") as pool:
        healths = list(pool.map(lambda n: measure(n, agents, fresh), nodes))
    record(town, *healths)
    return {h.node: h for h in healths}


def current_health(town, nodes: list[Node], agents: list[str], max_age: float = MAX_AGE,
                   now: float | None = None) -> dict[str, NodeHealth]:
    """The cached health of NODES where fresh, the others measured now, by a login of their own (a node
    whose sshd no longer takes logins cannot start a polecat's link, even while an old connection lives)."""
    cached = load_health(town)
    stale = [n for n in nodes if n.name not in cached or not cached[n.name].fresh(now, max_age)]
    out = {n.name: cached[n.name] for n in nodes if n not in stale}
    out.update(measure_all(town, stale, agents, fresh=True))
    return out


@dataclass
class LocalLoad:
    """The town machine's own load, measured the way a node's is."""
    load1: float | None = None
    cores: int | None = None
    mem_avail_mb: int | None = None

    @classmethod
    def now(cls) -> "LocalLoad":
        import os

        try:
            load1 = os.getloadavg()[0]
        except OSError:
            load1 = None
        avail = None
        try:
            for line in Path("/proc/meminfo").read_text().splitlines():
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) // 1024
        except (OSError, ValueError, IndexError):
            pass
        return cls(load1, os.cpu_count(), avail)
