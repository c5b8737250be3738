"""Finding the agent CLIs' record files under an agent's home (shared by the per-CLI readers)."""
from __future__ import annotations

import os


def files_under(root: str, depth: int, prefix: str = "", suffix: str = ".jsonl", sub: str | None = None) -> list[str]:
    """Files named PREFIX*SUFFIX exactly DEPTH folders below ROOT (the last folder named SUB when given),
    found with scandir (much cheaper than Path.glob for thousands of files)."""
    dirs = [root]
    for level in range(depth):
        nxt = []
        for d in dirs:
            try:
                for e in os.scandir(d):
                    if e.is_dir() and (sub is None or level < depth - 1 or e.name == sub):
                        nxt.append(e.path)
            except (FileNotFoundError, NotADirectoryError, PermissionError):
                continue
        dirs = nxt
    out = []
    for d in dirs:
        try:
            out += [e.path for e in os.scandir(d)
                    if e.name.endswith(suffix) and e.name.startswith(prefix) and e.is_file()]
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
    return sorted(out)
