"""What a session is asked to run, and the environment its program gets."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from gastown_tui.sessions.presets import Preset
from gastown_tui.town.addresses import Address


class SessionError(RuntimeError):
    """A session could not be started or used; the message says which agent and why."""


@dataclass
class SessionSpec:
    agent: str  # the agent's address, e.g. gastown/polecats/nux
    preset: Preset | str
    cwd: Path
    town: Path | None = None
    env: dict = field(default_factory=dict)
    argv: list[str] | None = None  # overrides the preset's command line
    beacon: str | None = None  # start-up prompt (GUPP beacon)
    cols: int = 120
    rows: int = 40
    scrollback_lines: int = 10_000
    resume: bool = False
    engine: str | None = None  # VT engine override ("ghostty" / "pyte"); default: best available


# Variables by which programs decide they run in CI and so have no terminal to talk to (the `is-in-ci`
# rules Ink-based CLIs use, and Gemini CLI's own check, which makes it exit at once with status 42 when it
# gets no prompt). An agent's terminal is a real, interactive PTY whatever launched gastown, so they are
# not passed on.
CI_MARKERS = ("CI", "CONTINUOUS_INTEGRATION", "GITHUB_ACTIONS", "BUILD_ID", "BUILD_NUMBER", "RUN_ID")


def interactive_environ(environ: dict[str, str]) -> dict[str, str]:
    """`environ` without the variables that tell a program it runs in CI (CI_MARKERS and any `CI_*`)."""
    return {k: v for k, v in environ.items() if k not in CI_MARKERS and not k.startswith("CI_")}


def agent_environment(spec: SessionSpec, preset: Preset, address: Address, session_id: str) -> dict[str, str]:
    """This process's environment without any Gas Town identity of its own or CI markers, then TERM, the preset's and the
    spec's variables, and the agent's identity: GT_AGENT, BD_ACTOR, GT_ROLE, GT_RIG, GT_SESSION_ID, GT_TOWN,
    with `<town>/.runtime/shims` (the gt/bd launchers) first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GT_") and k != "BD_ACTOR"}
    env.update({"TERM": "xterm-256color", "COLORTERM": "truecolor"})
    env.pop("TMUX", None)
    env.update(preset.env)
    env.update({k: str(v) for k, v in spec.env.items()})
    env = interactive_environ(env)
    agent = str(address)
    env.update({"GT_AGENT": agent, "BD_ACTOR": agent, "GT_ROLE": address.role, "GT_SESSION_ID": session_id})
    if address.rig:
        env["GT_RIG"] = address.rig
    if spec.town:
        town = Path(spec.town).resolve()
        env["GT_TOWN"] = str(town)
        shims = town / ".runtime" / "shims"
        env["PATH"] = f"{shims}{os.pathsep}{env.get('PATH', os.defpath)}"
    return env
