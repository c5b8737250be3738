"""Low-level process facts for sessions: a pid's descendants, a PTY's slave name, a pid's tty, and the
Linux pidfd exit watcher. Finding and signalling whole trees, for many sessions at once, is process_tree.py."""
from __future__ import annotations

import asyncio
import os
from typing import Callable

import psutil  # finds children that left the process group (setsid, double fork)


def descendants(pid: int) -> list[int]:
    """Every live descendant of `pid` (empty when pid is gone)."""
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []








def pty_name(master_fd: int) -> str | None:
    """The slave side of a PTY master (Linux TIOCGPTN), e.g. /dev/pts/5; None where unknown."""
    import fcntl
    import struct
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        num = struct.unpack("I", fcntl.ioctl(master_fd, 0x80045430, b"\0\0\0\0"))[0]
    except OSError:
        return None
    return f"/dev/pts/{num}"


def tty_of(pid: int) -> str | None:
    """The controlling terminal of pid (e.g. /dev/pts/5), or None."""
    try:
        return psutil.Process(pid).terminal()
    except psutil.Error:
        return None




class ExitWatcher:
    """Linux: a pidfd registered with the loop turns readable the moment the process exits, so an
    exit is seen at once even while a grandchild keeps the PTY open. `start` returns None where
    pidfds are missing (other systems, old kernels); the session's 0.25 s poll covers those."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        self._loop = loop
        self._fd: int | None = fd

    @classmethod
    def start(cls, loop: asyncio.AbstractEventLoop, pid: int, callback: Callable[[], None]) -> "ExitWatcher | None":
        try:
            fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            return None
        loop.add_reader(fd, callback)
        return cls(loop, fd)

    def close(self) -> None:
        if self._fd is not None:
            self._loop.remove_reader(self._fd)
            os.close(self._fd)
            self._fd = None
