"""The cost reader's state kept between processes: `<town>/.runtime/costs-cache.json`.

A process that reads a town's costs for the first time (`gastown costs` without a server, a server that
starts) would read every agent CLI's record file whole. With this cache it takes each file's state as a
previous process left it (where it had read to, its records and problems) and reads only the files written
since.

Nothing here can give a wrong sum: a cached state is used only for the very file it was read from (its
inode), untouched since (the same size and mtime, to the nanosecond); a file appended to, truncated,
rewritten or replaced since is read again from the start, as a file never seen (only reading it could tell
an append from a rewrite). A cache written by other code (the reader's or the CLIs' modules changed: their
mtimes are in its stamp) or one that cannot be read is ignored whole. Only a reader that lives (the
server's) writes it, once a minute at most when it read something new, as a whole new file (renamed over
the old one); it never holds a file that could not be read.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from gastown_tui import __version__
from gastown_tui.costs.usage import Problem, Usage

if TYPE_CHECKING:
    from gastown_tui.costs.reader import FileState, UsageFormat

VERSION = 1
_CODE = ("cache.py", "reader.py", "claude.py", "codex.py", "gemini.py", "usage.py", "timestamps.py")


def cache_path(homes: Path) -> Path:
    return Path(homes).parent / "costs-cache.json"


def stamp() -> list:
    """What the cached states depend on besides the files: this format and the code that read them."""
    here = os.path.dirname(os.path.abspath(__file__))
    mtimes: list[int | None] = []      # None: a file of the code that cannot be read
    for name in _CODE:
        try:
            mtimes.append(os.stat(os.path.join(here, name)).st_mtime_ns)
        except OSError:
            mtimes.append(None)
    return [VERSION, __version__, *mtimes]


def save(path: Path, files: dict) -> None:
    """Writes every fully read file's state (FileState by path) to PATH. A failure only costs the cache."""
    out = {}
    for p, st in files.items():
        if st.inode < 0 or any(pr.line is None for pr in st.problems):     # never read, or unreadable now
            continue
        out[p] = [st.cli.NAME, st.agent_key, st.inode, st.mtime, st.mtime_ns, st.offset, st.lineno,
                  st.size, st.parse,
                  [[k, u.session, u.ts, u.model, u.input, u.output, u.cache_write, u.cache_read]
                   for k, u in st.records.items()],
                  [[pr.line, pr.reason] for pr in st.problems]]
    try:
        data = orjson.dumps({"stamp": stamp(), "files": out})
    except (TypeError, ValueError):    # (a state JSON cannot hold: no cache, never a failed read)
        return
    tmp = f"{path}.{os.getpid()}.tmp"
    try:        # a whole new file or none (not write_atomic: a cache needs no fsync, and a file torn by a power
        with open(tmp, "wb") as fh:     # cut is ignored when read)
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def load(path: Path, listed: dict, new_state: Callable[[UsageFormat, str], FileState]) -> dict:
    """The cached states (FileState by path) of the files in LISTED (path -> (cli module, agent_key)) whose
    CLI and agent are still the same; {} when there is no usable cache. Each state still has to be checked
    against its file (`verify` is set: the reader does it on its first look)."""
    try:
        with open(path, "rb") as fh:
            data = orjson.loads(fh.read())
        if type(data) is not dict or data.get("stamp") != stamp():
            return {}
        out = {}
        for p, row in data["files"].items():
            known = listed.get(p)
            if known is None:
                continue
            cli, agent_key = known
            name, key, inode, mtime, mtime_ns, offset, lineno, size, parse, records, problems = row
            if name != cli.NAME or key != agent_key:
                continue
            st = new_state(cli, agent_key)
            st.inode, st.mtime, st.mtime_ns, st.offset, st.lineno = inode, mtime, mtime_ns, offset, lineno
            st.size, st.parse, st.verify = size, parse, True
            st.records = {k: Usage(name, agent_key, session, ts, model, i, o, cw, cr)
                          for k, session, ts, model, i, o, cw, cr in records}
            st.problems = [Problem(p, line, reason) for line, reason in problems]
            out[p] = st
        return out
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}       # no cache, or not one this code wrote: read the files
