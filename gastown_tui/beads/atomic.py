"""Compatibility names for code written before the one atomic writer and the one file lock.

New code imports `gastown_tui.atomicfile.write_atomic` and `gastown_tui.filelock.FileLock`.
Nothing in this tree imports this module any more; the aliases keep modules from branches still
in flight that say `beads.atomic` importing until they are merged (then this file goes)."""
from __future__ import annotations

from pathlib import Path

from gastown_tui.atomicfile import write_atomic
from gastown_tui.beads.jsonl import signature  # noqa: F401  (compatibility)
from gastown_tui.filelock import FileLock  # noqa: F401  (compatibility)


def atomic_write(path: Path, chunks, mode: int = 0o644) -> None:
    """`write_atomic(path, chunks, mode, sync_dir=True)`, the ledger's old spelling."""
    write_atomic(path, chunks, mode, sync_dir=True)
