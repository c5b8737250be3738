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
    if psutil is None:
        return None
    try:
        return psutil.Process(pid).terminal()
    except psutil.Error:
        return None


def tty_holders(tty: str | None) -> list[int]:
    """Processes that still have `tty` open, including ones that left the session with setsid
    (their controlling terminal is gone but their stdin/stdout still point at it). Linux /proc only."""
    if not tty or not os.path.isdir("/proc"):
        return []
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        fd_dir = f"/proc/{entry}/fd"
        try:
            for fd in os.listdir(fd_dir):
                try:
                    if os.readlink(f"{fd_dir}/{fd}") == tty:
                        found.append(int(entry))
                        break
                except OSError:
                    continue
        except OSError:
            continue
    return found


class ExitWatcher:
    """Linux: a pidfd registered with the loop turns readable the moment the process exits, so an
    exit is seen at once even while a grandchild keeps the PTY open. `start` returns None where
    pidfds are missing (other systems, old kernels); the session's 0.25 s poll covers those."""

    def __init__(self, loop, fd: int) -> None:
        self._loop, self._fd = loop, fd

    @classmethod
    def start(cls, loop, pid: int, callback) -> "ExitWatcher | None":
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
