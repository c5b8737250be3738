"""A Session whose PTY is on a node: the same screen, state rules, nudges and transcript code as a local
session, fed by the node channel.

The trick that keeps one code path: the Session reads and writes a local socketpair exactly as it reads
and writes a PTY master (`_on_readable`, `write`, `_flush_out` are not touched). The other end of the
pair is pumped to and from the NodeLink: the node's `output` is written into it, what the Session types
is read out of it and sent as `input`. The node's `exit` ends the pair after the last byte, so the
Session sees EOF only when every byte is on its screen, then the status.

What differs from a local session is only what needs the process: no pidfd (the exit comes from the
node), signals go to the node (it signals the program's process group there), the size goes to the
node, and the program's environment is the agent's identity and the preset's variables only, never
the town's own environment."""
from __future__ import annotations

import errno
import os
import signal
import socket
import sys
import time

from gastown_tui.nodes.link import NodeLink
from gastown_tui.sessions.session import Session, SessionError
from gastown_tui.sessions.states import SessionStarted
from gastown_tui.sessions.transcript import Transcript

# The town's variables that may go to a node: the agent's identity and terminal; nothing else of the
# town's environment (its tokens, its PATH) crosses.
PASSED = ("TERM", "COLORTERM", "LANG", "LC_ALL")


class RemoteProcess:
    """What Session/Lifecycle use of a pexpect child, for a program running on a node."""

    def __init__(self, session: "RemoteSession", pid: int) -> None:
        self.session = session
        self.pid = pid
        self.exitstatus: int | None = None
        self.signalstatus: int | None = None
        self.terminated = False
        self.closed = False

    def set_status(self, status: int | None) -> None:
        if status is not None and status < 0:
            self.signalstatus = -status
        elif status is not None:
            self.exitstatus = status
        self.terminated = True

    def isalive(self) -> bool:
        return not self.terminated

    def setwinsize(self, rows: int, cols: int) -> None:
        if not self.terminated:
            self.session.link.resize(self.session.sid, cols, rows)

    def close(self, force: bool = True) -> None:
        """Called from the closing job's worker thread: the pair is closed on the loop."""
        self.closed = True
        loop = self.session._loop
        if loop is not None and not loop.is_closed() and loop.is_running():
            loop.call_soon_threadsafe(self.session._close_pair)
        else:
            self.session._close_pair()


class RemoteSession(Session):
    def __init__(self, spec, link: NodeLink, presets=None, *, relay: bool = False, local_cwd=None,
                 remote_worktree=None) -> None:
        super().__init__(spec, presets)
        self.link = link
        self.relay = relay  # gt and bd on the node reach the town through this session's socket
        self.local_cwd = local_cwd  # the polecat's worktree in the town (where relayed commands run)
        self.remote_worktree = remote_worktree  # nodes.git.RemoteWorktree, for `gt done`
        self.node = link.node.name
        self.sid: str | None = None
        self.remote_pid: int | None = None
        self._mine: socket.socket | None = None  # the Session's end (its `_fd`)
        self._theirs: socket.socket | None = None  # the link's end
        self._to_session = bytearray()
        self._theirs_writer = False
        self._ended = False  # the node said exit (or the link was lost): shut the pair once drained

    def remote_environment(self) -> dict[str, str]:
        full = self.environment()
        mine = os.environ
        keep = {k: v for k, v in full.items()
                if k.startswith(("GT_", "BD_")) or k in PASSED or (k in self.spec.env) or mine.get(k) != v}
        keep.pop("PATH", None)  # the town's PATH (and its shims folder) mean nothing on the node
        return keep

    async def start(self) -> None:
        import asyncio

        if self._proc is not None:
            raise SessionError(f"session {self.id} for {self.agent} was already started")
        self._loop = asyncio.get_running_loop()
        self.keeper = None  # the keeper holds local PTYs; this one is held by the node
        await self.link.ensure_open()
        beacon = self.spec.beacon if self.preset.beacon != "paste" else None
        self.argv = list(self.spec.argv) if self.spec.argv else self.preset.command(beacon, resume=self.spec.resume)
        if self.argv and self.argv[0] == sys.executable:  # the sim agent: the node's own python runs it
            self.argv[0] = self.link.node.python
        self._mine, self._theirs = socket.socketpair()
        self._mine.setblocking(False)
        self._theirs.setblocking(False)
        try:
            self.remote_pid = await self.link.spawn(self, self.argv, str(self.spec.cwd), self.remote_environment(),
                                                    self.spec.cols, self.spec.rows, relay=self.relay)
        except Exception:
            self._close_pair()
            raise
        self._proc = RemoteProcess(self, self.remote_pid)
        self.pid = None  # nothing local to signal: the program lives on the node
        self._fd = self._mine.fileno()
        self.started_at = time.time()
        self.last_output_at = time.monotonic()
        self.transcript = Transcript(self.transcript_dir, write_through=False)
        self._write_meta()
        self._loop.add_reader(self._fd, self._on_readable)
        self._loop.add_reader(self._theirs.fileno(), self._typed)
        self._watch_task = self._loop.create_task(self._watch(), name=f"session-watch-{self.agent_key}")
        self._emit(SessionStarted(self.id, self.agent, self.remote_pid, tuple(self.argv), time.time()))
        if self.preset.beacon == "paste" and self.spec.beacon:
            self._beacon_task = self._loop.create_task(self._deliver_beacon(self.spec.beacon))

    # -- the link's side of the pair ---------------------------------------------------------
    def on_output(self, data: bytes) -> None:
        self._to_session += data
        self._pump()

    def on_exit(self, status: int) -> None:
        if self._proc is not None:
            self._proc.set_status(status)
        self._ended = True
        self._pump()

    def on_link_lost(self, reason: str) -> None:
        """The SSH connection ended. Reconnecting and resuming is not built yet: the session ends (-1)."""
        self.state_detail = reason
        if self._proc is not None:
            self._proc.set_status(None)
        self._ended = True
        self._pump()

    def _pump(self) -> None:
        theirs = self._theirs
        if theirs is None:
            return
        while self._to_session:
            try:
                n = theirs.send(self._to_session)
            except BlockingIOError:
                break
            except OSError:
                self._to_session.clear()
                break
            del self._to_session[:n]
        want = bool(self._to_session)
        if want != self._theirs_writer and self._loop is not None:
            if want:
                self._loop.add_writer(theirs.fileno(), self._pump)
            else:
                self._loop.remove_writer(theirs.fileno())
            self._theirs_writer = want
        if self._ended and not self._to_session:
            try:
                theirs.shutdown(socket.SHUT_WR)  # EOF after the last byte: the Session then checks the exit
            except OSError:
                pass

    def _typed(self) -> None:
        try:
            data = self._theirs.recv(65536)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno not in (errno.ECONNRESET, errno.EBADF):
                raise
            data = b""
        if not data:
            self._loop.remove_reader(self._theirs.fileno())
            return
        if self.sid is not None and not self._ended:
            try:
                self.link.input(self.sid, data)
            except SessionError:
                pass

    def _close_pair(self) -> None:
        for attr in ("_theirs", "_mine"):
            sock = getattr(self, attr)
            if sock is None:
                continue
            if self._loop is not None and not self._loop.is_closed():
                for remove in (self._loop.remove_reader, self._loop.remove_writer):
                    try:
                        remove(sock.fileno())
                    except (ValueError, OSError):
                        pass
            sock.close()
            setattr(self, attr, None)

    # -- what needs the process: the node does it ----------------------------------------------
    def _watch_pidfd(self) -> None:
        pass

    async def _signal_tree(self, sig: int) -> list[int]:
        if self._proc is not None and not self._proc.terminated and self.sid is not None:
            try:
                self.link.signal(self.sid, sig)
            except Exception:
                pass
        return []

    def kill_now(self) -> None:
        if not self.exited and self.sid is not None:
            try:
                self.link.signal(self.sid, signal.SIGKILL)
            except Exception:
                pass

    def _reap_now(self, job) -> None:
        try:
            job()
        finally:
            self._announce_exit()

    def _meta(self) -> dict:
        return {**super()._meta(), "node": self.node, "remote_pid": self.remote_pid}
