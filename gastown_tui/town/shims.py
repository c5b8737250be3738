"""`gt` and `bd` launchers for agents (the app puts their folder first on every agent's PATH)."""
from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from gastown_tui.atomicfile import write_atomic

TEMPLATE = """#!/bin/sh
# {name}: Gas Town's `{name}` for agents, written by `gastown shims`.
exec {python} -m gastown_tui.cli {sub} "$@"
"""


def write_shims(folder: Path, python: str | None = None) -> list[Path]:
    """Writes executable `gt` and `bd` into FOLDER (created if needed); returns their paths."""
    folder = Path(folder).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    py = shlex.quote(python or sys.executable)
    out = []
    for name, sub in (("gt", "gt"), ("bd", "bd")):
        path = folder / name
        write_atomic(path, TEMPLATE.format(name=name, python=py, sub=sub))
        os.chmod(path, 0o755)
        out.append(path)
    return out
