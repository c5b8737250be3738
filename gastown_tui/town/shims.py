"""`gt` and `bd` launchers for agents (the app puts their folder first on every agent's PATH).

Each runs the stdlib-only thin client (`python -S gastown_tui/thin/client.py`): the town's server runs
the command against its loaded ledgers; with no server it runs in-process as before (same output).
"""
from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from gastown_tui.atomicfile import write_atomic

THIN_CLIENT = Path(__file__).resolve().parent.parent / "thin" / "client.py"

TEMPLATE = """#!/bin/sh
# {name}: Gas Town's `{name}` for agents, written by `gastown shims`.
# The town's server runs it when one is up; otherwise it runs here (python -m gastown_tui.cli {sub}).
exec {python} -S {client} {sub} "$@"
"""

# In a town's own shims folder the socket is known: with no server, no thin client is started at all.
TOWN_TEMPLATE = """#!/bin/sh
# {name}: Gas Town's `{name}` for agents, written by `gastown shims`.
# The town's server runs it when one is up; otherwise it runs here (python -m gastown_tui.cli {sub}).
if [ -S "${{GASTOWN_SOCKET:-{socket}}}" ]; then
  exec {python} -S {client} {sub} "$@"
fi
exec {python} -m gastown_tui.cli {sub} "$@"
"""


def _town_socket(folder: Path) -> str | None:
    """The socket of the town whose `.runtime/shims` FOLDER is, else None."""
    town = folder.parent.parent
    if folder.name == "shims" and folder.parent.name == ".runtime" and (town / "mayor" / "town.json").is_file():
        from gastown_tui.server.paths import socket_path

        return socket_path(str(town))
    return None


def write_shims(folder: Path, python: str | None = None) -> list[Path]:
    """Writes executable `gt` and `bd` into FOLDER (created if needed); returns their paths."""
    folder = Path(folder).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    py = shlex.quote(python or sys.executable)
    client = shlex.quote(str(THIN_CLIENT))
    sock = _town_socket(folder)
    template = TOWN_TEMPLATE if sock and "'" not in sock and "$" not in sock and '"' not in sock else TEMPLATE
    out = []
    for name, sub in (("gt", "gt"), ("bd", "bd")):
        path = folder / name
        write_atomic(path, template.format(name=name, python=py, sub=sub, client=client, socket=sock))
        os.chmod(path, 0o755)
        out.append(path)
    return out
