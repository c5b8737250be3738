"""Cross-process file locks (fcntl.flock) for the town's registries and slings."""
from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path

from gastown_tui.errors import UserError


@contextmanager
def file_lock(path: Path, timeout: float = 30.0, what: str = "lock"):
    """Holds an exclusive lock on PATH (created if needed); UserError after TIMEOUT seconds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise UserError(f"timed out after {timeout:.0f}s waiting for the {what} ({path})") from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)
