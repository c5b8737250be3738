"""Which agent CLIs this machine has: each preset's program found or not, its path and version.

`gastown agents`, `gastown install` (which picks the roles' agent) and the
onboarding hints use this. The program is looked up as a session would run it:
the preset's argv[0] (or its `path` setting) on PATH. Versions come from
`--version` (cli_version.py; run in parallel, cached per program file).
"""
from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from gastown_tui.sessions.cli_version import in_range, installed_version, resolve_program
from gastown_tui.sessions.presets import Preset

# Real agent CLIs, in the order `gastown install` prefers them when several are found.
AGENT_CLIS = ("claude", "codex", "gemini", "aider", "opencode", "amp")


@dataclass
class AgentCLI:
    name: str  # the preset
    description: str
    program: str  # argv[0] as configured
    path: str | None = None  # where it was found (None: not found)
    version: str | None = None
    verified: str | None = None  # the versions its rules were checked against
    roles: list[str] = field(default_factory=list)  # filled in by the town (who uses this preset)

    @property
    def found(self) -> bool:
        return self.path is not None

    @property
    def verified_ok(self) -> bool | None:
        """True: this version is one the rules were checked against; None: nothing to say (not found, or
        no range); False: found but outside the range (it may work; its screens may read wrongly)."""
        if not self.found or self.verified is None or self.version is None:
            return None
        return in_range(self.version, self.verified)

    def to_dict(self) -> dict:
        return {**asdict(self), "found": self.found, "verified_ok": self.verified_ok}


def detect(presets: dict[str, Preset], path: str | None = None,
           names: Iterable[str] | None = None) -> list[AgentCLI]:
    """Every preset (or those NAMES), found or not. Blocking (runs `--version`): not on an event loop."""
    chosen = [presets[n] for n in (names or presets) if n in presets]
    out = [AgentCLI(p.name, p.description, p.program, verified=p.verified) for p in chosen]
    for item in out:
        if item.name in ("sim", "shell"):
            item.path = resolve_program(item.program, path) if item.name == "shell" else item.program
            continue
        item.path = resolve_program(item.program, path)
    found = [i for i in out if i.found and i.name in AGENT_CLIS]
    if found:
        with ThreadPoolExecutor(max_workers=min(6, len(found))) as pool:
            for item, version in zip(found, pool.map(lambda i: installed_version(i.path, path), found)):
                item.version = version
    return out


def first_verified(found: list[AgentCLI]) -> str | None:
    """The preferred real agent CLI that is installed at a verified version (else any installed one)."""
    real = [i for i in found if i.name in AGENT_CLIS and i.found]
    real.sort(key=lambda i: AGENT_CLIS.index(i.name))
    for item in real:
        if item.verified_ok:
            return item.name
    return None
