"""`gastown node check`: what a node lacks to run the town's polecats, found in one ssh round trip.

The probe is a POSIX shell script (it must work where python is missing) printing one `key value`
line per fact: the python and its version, git, each agent CLI asked about, and the gastown package
the node's python imports. `problems()` turns the facts into one line per missing thing, naming the node."""
from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field

from gastown_tui import __version__
from gastown_tui.nodes.git import remote_path
from gastown_tui.nodes.registry import Node
from gastown_tui.nodes.ssh import NodeError, run
from gastown_tui.sessions.presets import load_presets
from gastown_tui.town.rig_registry import list_rigs
from gastown_tui.town.settings import TownSettings

MIN_PYTHON = (3, 11)


@dataclass
class NodeFacts:
    node: str
    python: str | None = None  # "3.11.2", or None when the node's python is missing
    git: str | None = None
    gastown: str | None = None
    agents: dict[str, str | None] = field(default_factory=dict)  # program -> its path on the node, or None
    load1: float | None = None  # the 1-minute load average
    cores: int | None = None
    mem_total_mb: int | None = None
    mem_avail_mb: int | None = None
    daemon: str | None = None  # the version its running node daemon wrote ("unknown": one older than that file)

    def problems(self, town_version: str = __version__) -> list[str]:
        out = []
        if self.python is None:
            out.append(f"node {self.node}: python3 is missing (needs {'.'.join(map(str, MIN_PYTHON))} or newer)")
        elif tuple(int(x) for x in self.python.split(".")[:2]) < MIN_PYTHON:
            out.append(f"node {self.node}: python {self.python} is too old (needs "
                       f"{'.'.join(map(str, MIN_PYTHON))} or newer)")
        if self.git is None:
            out.append(f"node {self.node}: git is missing")
        for program, path in self.agents.items():
            if path is None:
                out.append(f"node {self.node}: agent CLI {program!r} is not installed (not on the login PATH)")
        if self.python is not None and self.gastown is None:
            out.append(f"node {self.node}: the gastown package is not installed for its python "
                       f"(town has {town_version}; gastown node install {self.node} installs it)")
        elif self.gastown is not None and self.gastown != town_version:
            out.append(f"node {self.node}: gastown {self.gastown} is installed, the town runs {town_version} "
                       f"(gastown node install {self.node} installs the town's)")
        if self.daemon is not None and self.daemon != town_version:
            theirs = "an older gastown" if self.daemon == "unknown" else f"gastown {self.daemon}"
            out.append(f"node {self.node}: its node daemon runs {theirs}, the town runs {town_version} "
                       f"(gastown node install {self.node} installs the town's and replaces the daemon once its "
                       f"programs have ended)")
        return out

    def to_dict(self, town_version: str = __version__) -> dict:
        return {"node": self.node, "python": self.python, "git": self.git, "gastown": self.gastown,
                "agents": self.agents, "load1": self.load1, "cores": self.cores, "mem_total_mb": self.mem_total_mb,
                "mem_avail_mb": self.mem_avail_mb, "daemon": self.daemon, "town_version": town_version,
                "problems": self.problems(town_version)}


def probe_script(python: str, agents: list[str], node_dir: str | None = None) -> str:
    py = shlex.quote(python)
    lines = []
    if node_dir is not None:  # the node daemon running for the node's folder, and the version it runs
        d = remote_path(node_dir.rstrip("/") + "/daemon") if node_dir not in ("~", "~/") else '"$HOME"/daemon'
        lines += [f"if [ -f {d}/daemon.pid ] && kill -0 \"$(cat {d}/daemon.pid 2>/dev/null)\" 2>/dev/null; then",
                  f"  echo \"daemon $(cat {d}/daemon.version 2>/dev/null || echo unknown)\"", "fi"]
    lines += [
        f"if command -v {py} >/dev/null 2>&1; then",
        f"  echo \"python $({py} -c 'import sys; print(\"%d.%d.%d\" % sys.version_info[:3])' 2>/dev/null)\"",
        f"  echo \"gastown $({py} -c 'import gastown_tui; print(gastown_tui.__version__)' 2>/dev/null)\"",
        "fi",
        "echo \"git $(git --version 2>/dev/null | cut -d' ' -f3)\"",
        # load and memory, for placement (Linux /proc; elsewhere these lines stay empty and are unknown)
        "echo \"load $(cut -d' ' -f1 /proc/loadavg 2>/dev/null)\"",
        "echo \"cores $(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null)\"",
        "echo \"memtotal $(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null)\"",
        "echo \"memavail $(awk '/^MemAvailable:/ {print $2}' /proc/meminfo 2>/dev/null)\"",
    ]
    for a in agents:
        q = shlex.quote(a)
        lines.append(f"echo \"agent {q} $(command -v {q} 2>/dev/null)\"")
    return "\n".join(lines)


def parse_facts(node: str, text: str, agents: list[str]) -> NodeFacts:
    facts = NodeFacts(node, agents={a: None for a in agents})
    for line in text.splitlines():
        key, _, rest = line.partition(" ")
        rest = rest.strip()
        if key == "python":
            facts.python = rest or None
        elif key == "gastown":
            facts.gastown = rest or None
        elif key == "git":
            facts.git = rest or None
        elif key == "daemon":
            facts.daemon = rest or "unknown"
        elif key in ("load", "cores", "memtotal", "memavail") and rest:
            try:
                value = float(rest)
            except ValueError:
                continue
            if key == "load":
                facts.load1 = value
            elif key == "cores":
                facts.cores = int(value)
            elif key == "memtotal":
                facts.mem_total_mb = int(value // 1024)
            else:
                facts.mem_avail_mb = int(value // 1024)
        elif key == "agent":
            program, _, path = rest.partition(" ")
            if program in facts.agents:
                facts.agents[program] = path.strip() or None
    return facts


def probe(node: Node, agents: list[str], timeout: float = 60.0, fresh: bool = False) -> NodeFacts:
    """The node's facts (NodeError, naming the node, when ssh cannot log in). FRESH: a login of its own,
    not the shared connection (so a node whose sshd no longer takes logins is found out)."""
    res = run(node, probe_script(node.python, agents, node.dir), timeout=timeout, mux=not fresh)
    if res.returncode != 0:
        raise NodeError(f"node {node.name}: the check script failed (status {res.returncode}): "
                        f"{res.stderr.decode(errors='replace').strip()[-200:]}")
    return parse_facts(node.name, res.stdout.decode(errors="replace"), agents)


def rig_agent_programs(town) -> list[str]:
    """The agent CLIs the town's polecats run (argv[0] of each rig's polecat preset). The built-in sim
    agent runs on the gastown package itself, so it adds no program."""

    settings = TownSettings.load(town.settings_path)
    presets = load_presets(town.root)
    names = {settings.agent_for("polecat")}
    for rig in list_rigs(town):
        names.add(settings.agent_for("polecat", rig.settings))
    programs = []
    for name in sorted(names):
        preset = presets.get(name)
        if preset is None:
            continue
        program = preset.program
        if program == sys.executable or program.endswith("/python") or program.startswith("python"):
            continue  # the sim agent: `python -m gastown_tui.cli agent sim`, covered by the package check
        programs.append(program.rsplit("/", 1)[-1] if "/" in program else program)
    return programs


def require_ready(node: Node, agents: list[str]) -> NodeFacts:
    """The facts, or NodeError listing every problem (what placement calls before using a node)."""
    facts = probe(node, agents)
    problems = facts.problems()
    if problems:
        raise NodeError("; ".join(problems) + "; nothing was placed there")
    return facts
