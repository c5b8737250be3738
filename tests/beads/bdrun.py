"""Runs the real `gastown bd` in a subprocess (the way agents and users do)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cli_path import VIA, command

GASTOWN = Path(sys.executable).parent / "gastown"


def bd_cmd(*args) -> list[str]:
    if VIA != "process":  # GASTOWN_CLI_VIA: through the thin client (tests/cli_path.py)
        return command(["bd", *args])[0]
    if GASTOWN.exists():
        return [str(GASTOWN), "bd", *map(str, args)]
    return [sys.executable, "-m", "gastown_tui.cli", "bd", *map(str, args)]


def bd(*args, cwd: Path, actor: str = "tester", check: bool = True, env: dict | None = None):
    """Runs `gastown bd ARGS` in `cwd`; returns CompletedProcess (text). check=True asserts exit 0."""
    full_env = dict(os.environ, BD_ACTOR=actor)
    full_env.pop("BEADS_DIR", None)
    if env:
        full_env.update(env)
    full_env.update(command(["bd"])[1])
    proc = subprocess.run(bd_cmd(*args), cwd=cwd, capture_output=True, text=True, env=full_env, timeout=120)
    if check:
        assert proc.returncode == 0, f"bd {args} exited {proc.returncode}: {proc.stderr}"
    return proc


def bd_json(*args, cwd: Path, **kw):
    proc = bd(*args, "--json", cwd=cwd, **kw)
    return json.loads(proc.stdout)
