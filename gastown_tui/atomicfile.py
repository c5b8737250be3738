"""Whole-file replacement that never leaves a half-written file: the one atomic
writer. The ledger (beads/jsonl.py, counters, doctor), the town's JSON files,
transcripts, agent homes and the simulated agent's edits all go through
`write_atomic`.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomic(path: Path, data: str | bytes | Iterable[str], mode: int | None = None, *,
                 sync_dir: bool = False) -> None:
    """Replaces `path` with `data` through a temp file beside it, fsync and rename, so
    a reader sees the old file or the new one, never half of one, and a failed write
    leaves no temp file behind.

    `data` is bytes, text (UTF-8; `surrogateescape`, so bytes the ledger read that
    way are written back unchanged) or an iterable of text chunks, streamed. The file
    keeps its permissions; a new one gets `mode` (default 0644). `sync_dir` also
    fsyncs the folder, so the rename itself survives a power cut (the ledger asks).
    The temp file is `.NAME.PID.*.tmp` (git-ignored by the ledger's .gitignore)."""
    path = Path(path)
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o644
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        if isinstance(data, (bytes, bytearray)):
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        else:
            with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape", newline="") as fh:
                if isinstance(data, str):
                    fh.write(data)
                else:
                    for chunk in data:
                        fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if sync_dir:
        _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
