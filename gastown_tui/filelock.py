"""The one file lock: an exclusive `flock` on a lock file, for one writer at a
time across processes (the ledger, the rig registry, slings, the name pool,
handoffs, the mayor clone)."""
from __future__ import annotations

import fcntl
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from gastown_tui.errors import UserError


class FileLock:
    """An exclusive `flock` on a lock file: one holder across processes and,
    through a re-entrant thread lock taken first, across the threads of this
    process that share the object. Re-entrant for the thread that holds it.

    `acquire(timeout=None)` waits for ever; with a timeout it raises `TimeoutError`
    when another holder keeps the lock that long."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None
        self._depth = 0
        self._threads = threading.RLock()

    def acquire(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._threads.acquire(timeout=-1 if timeout is None else max(0.0, timeout)):
            raise TimeoutError(f"{self.path}: held by another thread for {timeout:.0f}s")
        try:
            if self._depth == 0:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    _flock(fd, deadline, self.path, timeout)
                except BaseException:
                    os.close(fd)
                    raise
                self._fd = fd
            self._depth += 1
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        try:
            self._depth -= 1
            if self._depth == 0 and self._fd is not None:
                fd, self._fd = self._fd, None
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
        finally:
            self._threads.release()

    @property
    def held(self) -> bool:
        return self._depth > 0

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _flock(fd: int, deadline: float | None, path: Path, timeout: float | None) -> None:
    if deadline is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{path}: held by another process for {timeout:.0f}s") from None
            time.sleep(0.02)


@contextmanager
def file_lock(path: Path, timeout: float = 30.0, what: str = "lock") -> Iterator[None]:
    """Holds an exclusive lock on PATH (created if needed) with a fresh `FileLock`;
    a `UserError` naming WHAT and PATH after TIMEOUT seconds."""
    lock = FileLock(path)
    try:
        lock.acquire(timeout)
    except TimeoutError:
        raise UserError(f"timed out after {timeout:.0f}s waiting for the {what} ({Path(path)})") from None
    try:
        yield
    finally:
        lock.release()
