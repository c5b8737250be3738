"""Starting, finding and stopping a town's server from another process (`gastown up/down/status`, the app).

`start_background(town)` is the one place that decides what runs in the background (`daemon_argv`): the
town's keeper, which runs `gastown server --town T` and holds the agents' PTYs. Everything else waits for
the socket to answer.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

from gastown_tui.server import paths
from gastown_tui.server.lock import serving_pid


def daemon_argv(town_root: Path) -> list[str]:
    """What `gastown up` starts, detached, for the town: its keeper (server/keeper.py, `python -S`), which
    runs `gastown server --town T`, holds the agents' PTYs and restarts the server if it dies."""
    # deferred: `gastown status`/`attach` never start a keeper: they do not load it
    from gastown_tui.server.keeper import keeper_argv

    return keeper_argv(str(town_root))


async def _hello(path: str, timeout: float) -> dict | None:
    # deferred: the asyncio client loads only when a server is there to talk to
    from gastown_tui.client.connection import Connection

    try:
        conn = await Connection.open(path, client="control", timeout=timeout)
    except (OSError, asyncio.TimeoutError, ConnectionError, Exception):
        return None
    await conn.close()
    return conn.server


def answering(town_root: Path, timeout: float = 2.0) -> dict | None:
    """The hello reply of the town's server, or None when none answers."""
    return asyncio.run(_hello(paths.socket_path(str(town_root)), timeout))


def start_background(town_root: Path, wait: float = 30.0) -> tuple[int, bool]:
    """Starts the town's server in its own session (not a child of this terminal), logging to
    `.runtime/server.log`, unless one already serves it. Returns (server pid, whether it was started).
    Raises RuntimeError with the log's tail when it does not come up within WAIT seconds."""
    town_root = Path(town_root).resolve()
    pid = serving_pid(str(town_root))
    if pid and answering(town_root):
        return pid, False
    log = paths.log_path(str(town_root))
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, "ab") as fh:
        fh.write(f"--- gastown up {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n".encode())
        fh.flush()
        proc = subprocess.Popen(daemon_argv(town_root), cwd=str(town_root), stdin=subprocess.DEVNULL, stdout=fh,
                                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        pid = serving_pid(str(town_root))
        if pid and answering(town_root, timeout=1.0):
            return pid, pid == proc.pid or _descends(pid, proc.pid)
        if proc.poll() is not None and not serving_pid(str(town_root)):
            break
        time.sleep(0.05)
    raise RuntimeError(f"the town server did not come up; {log} ends with:\n{_tail(log)}")


def _descends(pid: int, ancestor: int) -> bool:
    p = pid
    for _ in range(8):
        try:
            with open(f"/proc/{p}/stat", "rb") as fh:
                p = int(fh.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if p == ancestor:
            return True
    return False


def _tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, "rb") as fh:
            return b"\n".join(fh.read()[-8192:].splitlines()[-lines:]).decode(errors="replace")
    except OSError:
        return "(no log)"


async def _shutdown(path: str) -> bool:
    # deferred: the asyncio client loads only when a server is there to talk to
    from gastown_tui.client.connection import Connection, Disconnected, RemoteError

    try:
        conn = await Connection.open(path, client="control", timeout=5.0)
    except (OSError, asyncio.TimeoutError, ConnectionError):
        return False
    try:
        await conn.request("shutdown", agents=True)
    except (Disconnected, RemoteError):
        pass
    await conn.close()
    return True


def stop(town_root: Path, wait: float = 60.0) -> int | None:
    """Asks the town's server to stop every agent and itself; waits until its process is gone.
    Returns the pid that was stopped, None when no server ran. Raises TimeoutError when it hangs."""
    town_root = Path(town_root).resolve()
    pid = serving_pid(str(town_root))
    if pid is None:  # a keeper may still run (restarting a dead server, holding agents): it stops them
        # deferred: only when a keeper outlives its server
        from gastown_tui.server.keeper import request_stop

        return request_stop(str(town_root), wait)
    asyncio.run(_shutdown(paths.socket_path(str(town_root))))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if serving_pid(str(town_root)) is None and not _alive(pid):
            # deferred: only when a keeper outlives its server
            from gastown_tui.server.keeper import request_stop

            request_stop(str(town_root), max(1.0, deadline - time.monotonic()))  # the keeper too, if any
            return pid
        time.sleep(0.05)
    raise TimeoutError(f"the town server (pid {pid}) is still running after {wait:g}s; "
                       f"see {paths.log_path(str(town_root))}")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


async def _status(path: str) -> dict:
    # deferred: the asyncio client loads only when a server is there to talk to
    from gastown_tui.client.connection import Connection

    conn = await Connection.open(path, client="control", timeout=5.0)
    try:
        return await conn.request("status")
    finally:
        await conn.close()


def status(town_root: Path) -> dict | None:
    """The server's `status` reply, or None when no server answers."""
    try:
        return asyncio.run(_status(paths.socket_path(str(Path(town_root).resolve()))))
    except (OSError, asyncio.TimeoutError, ConnectionError):
        return None
