"""Finding the processes a test left behind: by a marker in their command line, or by pid."""
from __future__ import annotations

import os
import time

import psutil


def marker() -> str:
    """A number unique to this moment and process, to put in a command line (e.g. `sleep 301<marker>`)."""
    return f"{os.getpid() % 1000}{time.time_ns() % 1000000:06d}"


def marked(mark: str) -> list[int]:
    """Live (not zombie) processes whose command line carries `mark`."""
    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if mark in " ".join(p.info["cmdline"] or []) and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p.pid)
        except psutil.Error:
            pass
    return found


def gone(pid: int) -> bool:
    """The process has ended (a zombie waiting for its parent counts as ended)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
