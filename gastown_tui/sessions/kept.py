"""The server's side of the keeper (gastown_tui/server/keeper.py): hand it each agent's PTY, take them back.

A server started by a keeper finds `GASTOWN_KEEPER_FD` in its environment: one end of a SOCK_SEQPACKET
socket pair, one JSON message per datagram, file descriptors as SCM_RIGHTS. `KeeperLink.from_env()`
takes it (and removes the variable, so agents never inherit it).

- `keep(pid, fd, record)` when a session starts: the keeper holds a duplicate of the PTY master, so the
  agent never sees a hang-up if this server dies;
- `release(pid)` once the session is over (exited and its PTY closed);
- `adopt()` at start-up: every agent the keeper holds (a server that died, or the one this one replaces),
  as `Kept` (pid, PTY fd, the session record, an exit status if the keeper already reaped it);
- the keeper pushes `exited {pid, status}` when it reaps an orphaned agent: `exit_status(pid)` and the
  `on_exit` callback;
- the keeper asks this server to go, leaving the agents running: `upgrade` (a newer server replaces it at
  once) or `leave` (the keeper is being stopped): the `on_leave(restart)` callback.
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
from dataclasses import dataclass
from collections.abc import MutableMapping, Sequence
from typing import Callable

ENV_FD = "GASTOWN_KEEPER_FD"
MAX_MSG = 1 << 20
MAX_FDS = 256


@dataclass
class Kept:
    pid: int
    fd: int
    record: dict
    status: int | None  # the keeper reaped it already: its exit status


class KeeperLink:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._send_lock = threading.Lock()  # releases are sent from worker threads (the closing job)
        self._statuses: dict[int, int] = {}
        self._backlog: list[tuple[dict, list[int]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.on_exit: Callable[[int, int], None] | None = None
        # on_leave(restart): the keeper asks this server to go without stopping its agents — to be replaced
        # by a newer one (`upgrade`, restart=True) or because the keeper itself is being stopped (`leave`)
        self.on_leave: Callable[[bool], None] | None = None
        self.broken = False

    @classmethod
    def from_env(cls, environ: MutableMapping[str, str] | None = None) -> "KeeperLink | None":
        environ = os.environ if environ is None else environ
        value = environ.pop(ENV_FD, None)
        if not value:
            return None
        try:
            fd = int(value)
            sock = socket.socket(fileno=fd)
        except (ValueError, OSError):
            return None
        os.set_inheritable(sock.fileno(), False)
        return cls(sock)

    # -- sending -------------------------------------------------------------------------------
    def _send(self, msg: dict, fds: Sequence[int] = ()) -> bool:
        if self.broken:
            return False
        data = json.dumps(msg, separators=(",", ":")).encode()
        try:
            with self._send_lock:
                if fds:
                    socket.send_fds(self.sock, [data], list(fds))
                else:
                    self.sock.send(data)
            return True
        except OSError:
            self.broken = True  # the keeper is gone: the server carries on unkept
            return False

    def keep(self, pid: int, fd: int, record: dict) -> bool:
        return self._send({"op": "keep", "pid": pid, "record": record}, [fd])

    def update(self, pid: int, record: dict) -> bool:
        return self._send({"op": "update", "pid": pid, "record": record})

    def release(self, pid: int) -> bool:
        self._statuses.pop(pid, None)
        return self._send({"op": "release", "pid": pid})

    def restart(self) -> bool:
        """Asks the keeper to start a new server as soon as this one exits (an upgrade)."""
        return self._send({"op": "restart"})

    def stop(self) -> bool:
        """The town stops: the keeper ends when this server does."""
        return self._send({"op": "stop"})

    # -- receiving -----------------------------------------------------------------------------
    def _recv(self, block: bool = True) -> tuple[dict | None, list[int]]:
        self.sock.setblocking(block)
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.sock, MAX_MSG, MAX_FDS)
        finally:
            self.sock.setblocking(True)
        for fd in fds:
            os.set_inheritable(fd, False)
        if not data:
            self.broken = True
            return None, []
        try:
            return json.loads(data), fds
        except ValueError:
            for fd in fds:
                os.close(fd)
            return {}, []

    def adopt(self, timeout: float = 10.0) -> list[Kept]:
        """Every agent the keeper holds (blocking; call before the loop starts serving). Exit notices
        that arrive meanwhile are kept for `exit_status`."""
        if not self._send({"op": "adopt"}):
            return []
        found: list[Kept] = []
        self.sock.settimeout(timeout)
        try:
            while True:
                msg, fds = self._recv(block=True)
                if msg is None:
                    break
                if msg.get("op") != "kept":
                    self._absorb(msg, fds)
                    continue
                agents = msg.get("agents") or []
                for entry, fd in zip(agents, fds):
                    found.append(Kept(int(entry["pid"]), fd, entry.get("record") or {}, entry.get("status")))
                    if entry.get("status") is not None:
                        self._statuses[int(entry["pid"])] = int(entry["status"])
                for fd in fds[len(agents):]:
                    os.close(fd)
                if not msg.get("more"):
                    break
        except (socket.timeout, OSError):
            pass
        finally:
            self.sock.settimeout(None)
        return found

    def _absorb(self, msg: dict, fds: list[int]) -> None:
        for fd in fds:
            os.close(fd)
        if msg.get("op") in ("upgrade", "leave") and self.on_leave is not None:
            self.on_leave(msg["op"] == "upgrade")
            return
        if msg.get("op") == "exited" and isinstance(msg.get("pid"), int):
            pid, status = msg["pid"], int(msg.get("status", -1))
            self._statuses[pid] = status
            if self.on_exit is not None:
                self.on_exit(pid, status)

    def exit_status(self, pid: int) -> int | None:
        """The status the keeper reaped `pid` with, once it said so."""
        return self._statuses.get(pid)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Reads the keeper's notices on `loop` from now on."""
        if self._loop is None and not self.broken:
            self._loop = loop
            loop.add_reader(self.sock.fileno(), self._on_readable)

    def _on_readable(self) -> None:
        while True:
            try:
                msg, fds = self._recv(block=False)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                msg, fds = None, []
            if msg is None:
                self.broken = True
                self.detach()
                return
            self._absorb(msg, fds)

    def detach(self) -> None:
        if self._loop is not None:
            try:
                self._loop.remove_reader(self.sock.fileno())
            except (ValueError, OSError, RuntimeError):
                pass
            self._loop = None


class AdoptedProcess:
    """What a Session needs of its pexpect child, for an agent this server did not start: the PTY master
    it was handed, the pid, exit status from waitpid (it is still our child after an in-place re-exec) or
    from the keeper (it reaped the orphan)."""

    STATUS_WAIT = 2.0  # after the exit is seen, how long to wait for the keeper's status before -1

    def __init__(self, pid: int, fd: int, link: KeeperLink | None, status: int | None = None) -> None:
        self.pid = pid
        self.child_fd = fd
        self.link = link
        self.exitstatus: int | None = None
        self.signalstatus: int | None = None
        self.terminated = False
        self.closed = False
        self._gone_at: float | None = None
        if status is not None:
            self._set(status)

    def _set(self, status: int) -> None:
        if status < 0:
            self.signalstatus = -status
        else:
            self.exitstatus = status
        self.terminated = True

    def isalive(self) -> bool:
        if self.terminated:
            return False
        try:
            pid, wait_status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid = -1
        if pid == self.pid:
            self._set(-os.WTERMSIG(wait_status) if os.WIFSIGNALED(wait_status) else os.WEXITSTATUS(wait_status))
            return False
        if pid == 0:
            return True
        status = self.link.exit_status(self.pid) if self.link is not None else None
        if status is not None:
            self._set(status)
            return False
        if _running(self.pid):
            return True
        import time

        now = time.monotonic()
        if self._gone_at is None:
            self._gone_at = now
        if now - self._gone_at < self.STATUS_WAIT and self.link is not None and not self.link.broken:
            return True  # gone, the keeper's status is on its way
        self.terminated = True  # exit status unknown (exitstatus None: the session records -1)
        return False

    def setwinsize(self, rows: int, cols: int) -> None:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(self.child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def close(self, force: bool = True) -> None:
        if not self.closed:
            self.closed = True
            try:
                os.close(self.child_fd)
            except OSError:
                pass


def _running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    state = stat.rsplit(b")", 1)[-1].split()[0:1]
    return state not in ([b"Z"], [b"X"])
