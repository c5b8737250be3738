"""One server per town: an exclusive lock on `<town>/.runtime/server.lock` holding the serving pid."""
from __future__ import annotations

import fcntl
import os

from gastown_tui.errors import UserError
from gastown_tui.server import paths
from gastown_tui.server.keeper_control import lock_holder


class AlreadyServed(UserError):
    def __init__(self, town: str, pid: int | None) -> None:
        self.pid = pid
        super().__init__(f"the town {town} is already served by pid {pid if pid else '?'} "
                         f"(socket {paths.socket_path(town)}); `gastown down` stops it")


def _read_pid(fd: int) -> int | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return int(os.read(fd, 32).decode().strip() or 0) or None
    except (OSError, ValueError):
        return None


class ServerLock:
    def __init__(self, town_root: str) -> None:
        self.town = os.path.realpath(town_root)
        self.path = paths.lock_path(self.town)
        self._fd: int | None = None

    def acquire(self) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pid = _read_pid(fd)
            os.close(fd)
            raise AlreadyServed(self.town, pid) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            except OSError:
                pass
            os.close(self._fd)
            self._fd = None


def serving_pid(town_root: str) -> int | None:
    """The pid of the process serving the town, or None when nothing holds the lock."""
    return lock_holder(paths.lock_path(town_root))
