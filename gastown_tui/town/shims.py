"""`gt` and `bd` launchers for agents (the app puts their folder first on every agent's PATH).

Each is a Python script run by the interpreter itself (`#!<python> -S`: no shell started, no `site`) that
imports the stdlib-only thin client (`gastown_tui/thin/exec_client.py`, from the bytecode compiled here:
a script given by path would be compiled on every call). The town's server runs the command against its
loaded ledgers; with no server it runs in-process as before (`python -m gastown_tui.cli`, same output).
A town's own shims know its socket, so they never search for the town.

The `#!` line holds one interpreter path and one argument, at most 255 bytes, without blanks: where the
interpreter's path cannot go there, the shim is a `/bin/sh` script that execs the same client.
"""
from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from gastown_tui.atomicfile import write_atomic
from gastown_tui.server.paths import socket_path

THIN = Path(__file__).resolve().parent.parent / "thin"
THIN_CLIENT = THIN / "client.py"
EXEC_CLIENT = THIN / "exec_client.py"
PATHS = THIN.parent / "server" / "paths.py"
SHEBANG_MAX = 255

PY_TEMPLATE = """#!{interpreter} -S
# {name}: Gas Town's `{name}` for agents, written by `gastown shims`. The town's server runs it when one is
# up; otherwise it runs here (python -m gastown_tui.cli {sub}).
import sys
sys.path[0] = {thin!r}
from exec_client import main
sys.exit(main({sub!r}, {python!r}, {socket!r}))
"""

SH_TEMPLATE = """#!/bin/sh
# {name}: Gas Town's `{name}` for agents, written by `gastown shims`.
# The town's server runs it when one is up; otherwise it runs here (python -m gastown_tui.cli {sub}).
exec {python} -S {client} {sub} "$@"
"""


def _town_socket(folder: Path) -> str | None:
    """The socket of the town whose `.runtime/shims` FOLDER is, else None."""
    town = folder.parent.parent
    if folder.name == "shims" and folder.parent.name == ".runtime" and (town / "mayor" / "town.json").is_file():
        return socket_path(str(town))
    return None


def compile_client(python: str) -> None:
    """Writes the thin client's bytecode (exec_client.py, paths.py) where PYTHON's imports look for it, so
    no call compiles it (PYTHONDONTWRITEBYTECODE or a read-only tree would otherwise make every call
    compile). Only for the interpreter running this (its cache tag); others compile as they import."""
    if os.path.realpath(python) != os.path.realpath(sys.executable):
        return
    import py_compile
    from importlib.util import cache_from_source

    for source in (EXEC_CLIENT, PATHS):
        try:
            target = cache_from_source(str(source))
            st = os.stat(source)
            try:
                fresh = os.stat(target).st_mtime >= st.st_mtime
            except OSError:
                fresh = False
            if not fresh:
                py_compile.compile(str(source), cfile=target, doraise=True)
        except (OSError, py_compile.PyCompileError):
            pass  # read-only install: the call compiles it in memory (slower, same result)


def shim_text(name: str, sub: str, python: str, socket: str | None) -> str:
    """The script for `NAME` (gt or bd) that runs `gastown SUB` with PYTHON (the environment with gastown
    installed, for the fallback); SOCKET: the town's socket when the shim belongs to a town."""
    interpreter = os.path.realpath(python)  # the interpreter itself: `-S` needs none of the venv
    line = f"#!{interpreter} -S"
    if len(line.encode("utf-8", "surrogateescape")) <= SHEBANG_MAX and not any(c.isspace() for c in interpreter):
        return PY_TEMPLATE.format(interpreter=interpreter, name=name, sub=sub, thin=str(THIN), python=python,
                                  socket=socket)
    return SH_TEMPLATE.format(name=name, sub=sub, python=shlex.quote(python), client=shlex.quote(str(THIN_CLIENT)))


def write_shims(folder: Path, python: str | None = None) -> list[Path]:
    """Writes executable `gt` and `bd` into FOLDER (created if needed); returns their paths."""
    folder = Path(folder).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    py = python or sys.executable
    compile_client(py)
    sock = _town_socket(folder)
    out = []
    for name, sub in (("gt", "gt"), ("bd", "bd")):
        path = folder / name
        write_atomic(path, shim_text(name, sub, py, sock))
        os.chmod(path, 0o755)
        out.append(path)
    return out
