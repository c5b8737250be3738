"""One program the node daemon runs in a PTY for the town (nodes/node_daemon.py): its output, numbered by
byte and kept in its output log (nodes/output_log.py) so a town that reconnects gets exactly what it
missed; the town's keys, written to its PTY; its signals, to its whole process group; and its end, reaped
and reported with the output's length.

A session knows which town link started (or claimed) it and that town's mark (nodes/node_ownership.py
decides who may drive it and when it is hung up); it reaches the daemon only through what it is given:
the loop, `send_live` (its events to the town connection attached to it) and `on_end` (its relay closes)."""
from __future__ import annotations

import asyncio
import errno
import os
import signal
import time
from pathlib import Path
from typing import Callable

from gastown_tui.nodes.channel import pack
from gastown_tui.nodes.daemon_log import log
from gastown_tui.nodes.output_log import OutputLog

READ_CHUNK = 65536
ORPHAN_AFTER = 660.0  # a program whose town has said nothing for this long is hung up (the town's hello may say)
HANGUP_KILL_AFTER = 5.0  # a hung-up program still running this much later is killed


class NodeSession:
    def __init__(self, sid: str, proc, log: OutputLog, cwd: Path | None, *, loop: asyncio.AbstractEventLoop,
                 send_live: Callable[[str, dict], None], on_end: Callable[[str], None]) -> None:
        self.sid = sid
        self.proc = proc
        self.fd = proc.fd
        self.log = log
        self.done = False
        self.status: int | None = None
        self.last_iid = 0
        self.cwd = cwd
        self.owner: str | None = None  # the town link that started it, or adopted it (its hello's `link`)
        self.town: str | None = None  # the digest of that town's proof (None: a town that proved nothing)
        self.orphan_after = ORPHAN_AFTER  # hung up when its link has said nothing for this long
        self.hung_up = False
        self.loop = loop
        self.send_live = send_live  # (sid, event) -> the town connection attached to this session, if any
        self.on_end = on_end  # (sid): called once the program is reaped and its exit sent
        os.set_blocking(self.fd, False)

    def on_readable(self) -> None:
        try:
            data = os.read(self.fd, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno not in (errno.EIO, errno.EBADF):
                raise
            data = b""
        if data:
            seq = self.log.append(data)
            self.send_live(self.sid, {"ev": "output", "sid": self.sid, "seq": seq, "data": pack(data)})
            return
        self.loop.remove_reader(self.fd)
        self.loop.create_task(self.reap())

    async def reap(self) -> None:
        status = await self.loop.run_in_executor(None, self._wait)
        self.signal(signal.SIGKILL)  # what it left behind in its process group (as a local session's reap)
        try:
            os.close(self.fd)
        except OSError:
            pass
        self.status = status
        self.done = True
        self.log.close()
        self.send_live(self.sid, {"ev": "exit", "sid": self.sid, "status": status, "end": self.log.end})
        self.on_end(self.sid)

    def _wait(self) -> int:
        try:
            _, st = os.waitpid(self.proc.pid, 0)
        except ChildProcessError:
            return -1
        return -os.WTERMSIG(st) if os.WIFSIGNALED(st) else os.WEXITSTATUS(st)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        deadline = time.monotonic() + 2.0
        while view:  # keys are small; a full PTY input queue is waited out briefly rather than dropped
            try:
                n = os.write(self.fd, view)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.001)
                continue
            except OSError:
                return
            view = view[n:]

    def signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)  # the program is its PTY's session leader: its whole group
        except (ProcessLookupError, PermissionError):
            pass

    def hang_up(self, why: str) -> None:
        """SIGHUP to its process group (what a terminal closing does), SIGKILL 5 s later if it is still there."""
        if self.done or self.hung_up:
            return
        self.hung_up = True
        log(f"session {self.sid} (pid {self.proc.pid}): {why}: hung up")
        self.signal(signal.SIGHUP)
        self.loop.call_later(HANGUP_KILL_AFTER, lambda: None if self.done else self.signal(signal.SIGKILL))

    def record(self) -> dict:
        return {"sid": self.sid, "pid": self.proc.pid, "alive": not self.done, "end": self.log.end,
                "last_iid": self.last_iid, "status": self.status}
