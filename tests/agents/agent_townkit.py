"""A real town with one rig for the agent flows, and sessions of real CLIs in it."""
from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

from agentkit import SCRUB, require_cli



def git(cwd, *args) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def make_town(tmp: Path, rig_name: str = "demo"):
    from gastown_tui.town.install import install_town
    from gastown_tui.town.rigs import add_rig, get_rig
    from gastown_tui.town.shims import write_shims

    src = tmp / "src"
    src.mkdir(parents=True)
    git(src, "init", "-q", "-b", "main")
    (src / "README.md").write_text("# demo\n")
    git(src, "add", "-A")
    git(src, "commit", "-q", "-m", "init")
    town = install_town(tmp / "town")
    add_rig(town, rig_name, str(src), gate="")
    write_shims(town.shims_dir)
    return town, get_rig(town, rig_name)


def new_bead(rig, title: str) -> str:
    from gastown_tui.town.ledgers import open_ledger

    return open_ledger(rig.beads_dir).create(title).id


def agent_spec(town, address: str, cli: str, cwd: Path, fake_url: str, beacon: str | None = None,
               preset=None, extra_env: dict | None = None):
    """A SessionSpec for a real CLI: the town's agent environment, the fake model's URL, the CLI on PATH."""
    from gastown_tui.sessions.session import SessionSpec
    from gastown_tui.town.agents import environment

    path = require_cli(cli)
    base = {k: v for k, v in os.environ.items() if k not in SCRUB and not k.startswith("PYTEST_")}
    env = environment(town, address, base=base)
    env["PATH"] = f"{Path(path).parent}{os.pathsep}{env.get('PATH', '')}"
    for k in SCRUB:
        env.pop(k, None)
    env["GASTOWN_MODEL_BASE_URL"] = fake_url
    env.update(extra_env or {})
    # The session seeds the agent's home itself (sessions/homes.py): nothing to add here.
    return SessionSpec(agent=address, preset=preset or cli, cwd=cwd, town=town.root, env=env, beacon=beacon)


async def wait_until(pred, timeout: float, what: str, interval: float = 0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def mrs(town, rig_name: str):
    from gastown_tui.town.mq import list_mrs

    return list_mrs(town, rig=rig_name)


def run_refinery(town, rig_name: str):
    from gastown_tui.patrols.base import RunContext
    from gastown_tui.patrols.refinery import Refinery

    return Refinery(town, rig_name).run(RunContext(now=time.time(), reason="manual"))


__all__ = ["git", "make_town", "new_bead", "agent_spec", "wait_until", "mrs", "run_refinery"]


class Overseer:
    """Answers an aider yes/no question once each time one shows (the person at the keyboard)."""

    QUESTION = r"\(Y\)es/\(N\)o.*\]: ?$"

    def __init__(self):
        self.answered: list[tuple[str, str]] = []
        self._last = 0.0

    def __call__(self, session) -> None:
        import re

        from gastown_tui.sessions.states import SessionState

        if session.state is not SessionState.NEEDS_APPROVAL:
            return
        question = next((ln for ln in reversed(session.screen.lines()) if ln.strip()), "")
        # An answered question's line ends with the echoed "y", so it no longer matches; the pause only
        # covers the moment before that echo arrives.
        if re.search(self.QUESTION, question) and len(self.answered) < 10 and \
                time.monotonic() - self._last >= 1.0:
            self.answered.append((session.state_rule, question))
            self._last = time.monotonic()
            session.write(b"y\r")
