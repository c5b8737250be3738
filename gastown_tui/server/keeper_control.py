"""Finding and asking a town's keeper (gastown_tui/server/keeper.py) from other processes: the command line
that starts it, the pids of the keeper and its server, and the stop and upgrade requests (signals).

Stdlib only, like the keeper (it runs with `python -S`).
"""
from __future__ import annotations

import fcntl
import os
import signal
import sys
import time

if __package__:
    from .keeper_holder import stop_holder
else:  # run as `python -S keeper.py`: the keeper's folder is on sys.path
    from keeper_holder import stop_holder

KEEPER_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keeper.py")


def default_server_argv(town: str) -> list[str]:
    return [sys.executable, "-m", "gastown_tui.cli", "server", "--town", town]


def keeper_argv(town: str, server_argv: list[str] | None = None, python: str | None = None) -> list[str]:
    """The command line that runs TOWN's keeper (which runs its server): `python -S <this file>`, so the
    keeper imports nothing but the standard library, whatever is installed."""
    town = os.path.realpath(town)
    return [python or sys.executable, "-S", KEEPER_PY, "--town", town, "--",
            *(server_argv or default_server_argv(town))]


def lock_holder(path: str) -> int | None:
    """The pid written in the lock file at PATH while a process holds its flock, or None when none does.
    (The keeper's lock and the server's, server/lock.py, are read alike.)"""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:  # held: the holder wrote its pid
            try:
                os.lseek(fd, 0, os.SEEK_SET)
                return int(os.read(fd, 32).decode().strip() or 0) or None
            except (OSError, ValueError):
                return None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def running_keeper(town: str) -> int | None:
    """The pid of the keeper serving TOWN (its lock is held), or None."""
    return lock_holder(os.path.join(os.path.realpath(town), ".runtime", "keeper.lock"))


def server_pid(town: str) -> int | None:
    """The pid in the town's server lock file (gastown_tui/server/lock.py), if any."""
    try:
        with open(os.path.join(os.path.realpath(town), ".runtime", "server.lock")) as f:
            return int(f.read().strip() or 0) or None
    except (OSError, ValueError):
        return None


def request_stop(town: str, timeout: float = 60.0) -> int | None:
    """Stops TOWN through its keeper (the server, its agents, the keeper): the pid of the keeper that was
    stopped, None when none runs. Raises TimeoutError when it is still running after TIMEOUT seconds."""
    keeper = running_keeper(town)
    if keeper is None:
        stop_holder(town)
        return None
    os.kill(keeper, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running_keeper(town) is None:
            return keeper
        time.sleep(0.05)
    raise TimeoutError(f"the town's keeper (pid {keeper}) is still running after {timeout:g}s")


def request_upgrade(town: str, timeout: float = 60.0) -> tuple[int | None, int | None]:
    """Asks TOWN's keeper to replace its server with a newly started one (the version installed now),
    keeping every agent; waits until a different server pid holds the server lock. Returns (old, new)
    server pids; raises RuntimeError naming the cause when there is no keeper or no new server in time."""
    keeper = running_keeper(town)
    if keeper is None:
        raise RuntimeError(f"the town {town} has no keeper running (start it with `gastown up`); "
                           "an upgrade in place needs the keeper to hold the agents")
    old = server_pid(town)
    os.kill(keeper, signal.SIGUSR2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = server_pid(town)
        if new and new != old and os.path.exists(f"/proc/{new}"):
            return old, new
        time.sleep(0.05)
    raise RuntimeError(f"no new server for {town} within {timeout:g}s (see {town}/.runtime/server.log)")
