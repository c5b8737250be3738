"""Before serving, make sure the town's server runs (so closing a tab never stops an agent).

Until the town server exists (`gastown up`, issue 11), each tab's `gastown app`
runs the town in its own process and this does nothing.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gastown_tui.cli import COMMANDS
from gastown_tui.errors import UserError


def town_server_command_exists() -> bool:
    """True once `gastown up` is a command of this gastown."""
    return "up" in COMMANDS


def start_town_server_if_available(town_root: Path) -> str:
    """Runs `gastown up` for the town when that command exists; says what it did (one line).

    `gastown up` starts the server when none runs and returns at once when one does."""
    if not town_server_command_exists():
        return "no town server in this gastown: each tab runs the town in its own app process"
    env = {**os.environ, "GT_TOWN": str(town_root)}
    done = subprocess.run([sys.executable, "-m", "gastown_tui.cli", "up"], cwd=town_root, env=env,
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise UserError(f"`gastown up` failed: {detail[-1] if detail else f'exit {done.returncode}'}")
    return (done.stdout.strip().splitlines() or ["town server running"])[-1]
