"""The one-writer rule for town state inside one process.

What it protects: read-decide-write sequences on the town's ledgers and
registries. A patrol reads the town, decides, and acts on what it read; an
operator's action (approve, send back, re-sling from the app or the server)
does the same. Two of them interleaving in one process would each act on a
reading the other just made stale (the Refinery merging an MR the operator is
sending back). So every patrol run and every operator write takes the
`TownWriteLock` of the process's town runtime; they take turns.

What it does not protect, and why not:
  - Reads. Ledgers are cached per thread (`town/ledgers.py`) and every writer
    replaces files atomically under a file lock, so a reader in any thread sees
    a whole old state or a whole new one. Readers never take this lock.
  - Other processes (agents running `gt`/`bd`, a second app). The ledger's
    flock and the registries' file locks (`gastown_tui/filelock.py`) do that.
  - Slow work that writes no town state: the Refinery's git steps and gate run
    in its own worktree outside the lock and take it only to change an MR.

The lock is re-entrant for the thread that holds it (a patrol run calling a
Refinery wrapper does not deadlock). `TownRuntime` owns one and hands it to its
`PatrolRunner` (which holds it around each patrol's run, or lets a patrol that
says `locks_itself` take it around its own writes) and to whoever writes.
"""
from __future__ import annotations

import threading


class TownWriteLock:
    """One writer of town state at a time in this process (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def acquire(self, timeout: float = -1) -> bool:
        """Takes the lock (waits for ever by default); False when TIMEOUT seconds passed first."""
        return self._lock.acquire(timeout=timeout) if timeout >= 0 else self._lock.acquire()

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> TownWriteLock:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


_PROCESS_LOCK = TownWriteLock()


def process_write_lock() -> TownWriteLock:
    """The process's lock: what `TownRuntime` uses unless handed one, and what callers
    that are not handed the runtime's lock yet take (`patrol_turn`)."""
    return _PROCESS_LOCK


def patrol_turn() -> TownWriteLock:
    """Compatibility for callers written before `TownWriteLock` (screens/town_actions.py,
    screens/town_adapter.py, server/api.py): `with patrol_turn():` takes the process's
    write lock. New code takes the runtime's `write_lock` it is handed."""
    return _PROCESS_LOCK
