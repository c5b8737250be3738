"""Whole-file replacement that never leaves a half-written file.

Every small file gastown writes outside the ledger (JSON settings, transcripts'
text and metadata, agent homes, the simulated agent's edits) goes through
`write_atomic`. The ledger streams its own (gastown_tui/beads/atomic.py).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: str | bytes, mode: int | None = None) -> None:
    """Replaces `path` with `data` (text is UTF-8) through a temp file beside it,
    fsync and rename, so a reader sees the old file or the new one, never half of one.
    The file keeps its permissions; a new one gets `mode` (default 0644)."""
    path = Path(path)
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o644
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
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
