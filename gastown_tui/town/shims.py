"""`gt` and `bd` launchers for agents (the app puts their folder first on every agent's PATH).

Each runs the stdlib-only thin client (`python -S gastown_tui/thin/client.py`): the town's server runs
the command against its loaded ledgers; with no server it runs in-process as before (same output).
"""
from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from gastown_tui.town.jsonfile import write_atomic

THIN_CLIENT = Path(__file__).resolve().parent.parent / "thin" / "client.py"

TEMPLATE = """#!/bin/sh
# {name}: Gas Town's `{name}` for agents, written by `gastown shims`.
# The town's server runs it when one is up; otherwise it runs here (python -m gastown_tui.cli {sub}).
exec {python} -S {client} {sub} "$@"
"""


def write_shims(folder: Path, python: str | None = None) -> list[Path]:
    """Writes executable `gt` and `bd` into FOLDER (created if needed); returns their paths."""
    folder = Path(folder).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    py = shlex.quote(python or sys.executable)
    client = shlex.quote(str(THIN_CLIENT))
    out = []
    for name, sub in (("gt", "gt"), ("bd", "bd")):
        path = folder / name
        write_atomic(path, TEMPLATE.format(name=name, python=py, sub=sub, client=client))
        os.chmod(path, 0o755)
        out.append(path)
    return out
