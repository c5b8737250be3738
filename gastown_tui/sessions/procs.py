"""Ending a process and everything it started: polite signals first, then SIGKILL."""
from __future__ import annotations

import os
import signal

try:  # psutil finds children that left the process group (setsid, double fork)
    import psutil
except ImportError:  # pragma: no cover - psutil is a dependency; without it only the group is signalled
    psutil = None


def descendants(pid: int) -> list[int]:
    """Every live descendant of `pid` (empty when psutil is missing or pid is gone)."""
    if psutil is None:
        return []
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def alive(pid: int) -> bool:
    if psutil is not None:
        try:
            p = psutil.Process(pid)
            return p.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def signal_tree(pid: int, sig: int, extra: list[int] = ()) -> None:
    """Sends `sig` to pid's process group, to pid, and to each pid in `extra`; missing ones are ignored."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    for p in (pid, *extra):
        try:
            os.kill(p, sig)
        except (ProcessLookupError, PermissionError):
            pass


def kill_now(pid: int) -> list[int]:
    """SIGKILL pid's whole tree at once (for atexit); returns the pids signalled."""
    tree = descendants(pid)
    signal_tree(pid, signal.SIGKILL, tree)
    return [pid, *tree]
