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
the town's own environment.

Link drops (docs/nodes.md, "Faults"): the program goes on on the node and the link reconnects; the
session is not declared dead. While the link is down `link_state` says so (and `state_detail` names
it), keys typed by a person are refused with a message (`input_refused()`, which the town server
answers the client with) rather than typed into a void, and a nudge waits for the link and is then
typed once (`submit`, nodes/remote_submit.py: every keystroke carries an id the node acknowledges; Enter
is pressed again only after the link was up for the whole wait). When the link is back the screen gets
what the program wrote meanwhile, from the last byte it had. `on_link_lost` is the end: the link was
closed, the node no longer has the program, or the node was gone longer than the grace (nodes/grace.py)."""
from __future__ import annotations

import errno
import hashlib
import os
import signal
import socket
import sys
import time
from pathlib import Path

from gastown_tui.nodes.link import UP, NodeLink
from gastown_tui.nodes.nudge_resume import finish_typed, typed_before
from gastown_tui.nodes.remote_adoption import drop_record, save_record
from gastown_tui.sessions.adoption import TAIL_BYTES
from gastown_tui.sessions.keys import encode_key
from gastown_tui.sessions.session import Session, SessionError
from gastown_tui.sessions.states import NudgeResult, SessionStarted
from gastown_tui.sessions.transcript import Transcript, raw_length, raw_tail
from gastown_tui.nodes.remote_submit import submit_remote

# The town's variables that may go to a node: the agent's identity and terminal; nothing else of the
# town's environment (its tokens, its PATH) crosses.
PASSED = ("TERM", "COLORTERM", "LANG", "LC_ALL")


NUDGE_LINK_WAIT = 600.0  # how long a nudge waits for a dropped link (the grace marks the node gone first)


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
        self.recv_seq = 0  # the offset after the last byte of the program's output that reached the town
        self.link_note: str | None = None  # why the link is down, while it is
        self.refused: list[str] = []  # messages for keys refused while the link was down (the last few)
        self._nudging = False  # a nudge is being typed: its keys wait for the link instead of being refused
        self.nudge_link_wait = NUDGE_LINK_WAIT
        self.nudge_mark: dict | None = None  # the nudge being typed now (in the durable record)
        self._prior_nudge: dict | None = None  # the one the previous server was typing (an adopted session)
        self._record_gone = False  # its durable record was dropped (ended, stopped, given up): never written again

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
                                                    self.spec.cols, self.spec.rows, sid=self.id, relay=self.relay)
        except Exception:
            self._close_pair()
            raise
        self._proc = RemoteProcess(self, self.remote_pid)
        self.pid = None  # nothing local to signal: the program lives on the node
        self._fd = self._mine.fileno()
        self.started_at = time.time()
        self.last_output_at = time.monotonic()
        self.transcript = Transcript(self.transcript_dir, write_through=False)
        if self._recorded():  # a later server re-adopts it from this record
            save_record(self.spec.town, self)  # at once (a busy executor would leave a window without it)
        self._begin()
        if self.preset.beacon == "paste" and self.spec.beacon:
            self._beacon_task = self._loop.create_task(self._deliver_beacon(self.spec.beacon))

    def _begin(self) -> None:
        self._write_meta()
        self._loop.add_reader(self._fd, self._on_readable)
        self._loop.add_reader(self._theirs.fileno(), self._typed)
        self._watch_task = self._loop.create_task(self._watch(), name=f"session-watch-{self.agent_key}")
        self._emit(SessionStarted(self.id, self.agent, self.remote_pid, tuple(self.argv), time.time()))

    async def resume(self, record: dict, tail_bytes: int = TAIL_BYTES) -> None:
        """Takes over the program an earlier server of this town started on the node (nodes/remote_adoption.py):
        the same session id, transcript and pid there. The screen is rebuilt from the transcript's tail;
        the stream resumes, once the link is up, from the byte the transcript ends at (no gap, no repeat)."""
        import asyncio

        if self._proc is not None:
            raise SessionError(f"session {self.id} for {self.agent} was already started")
        loop = self._loop = asyncio.get_running_loop()
        self.keeper = None
        self.adopted = True
        self.id = str(record.get("session_id") or record["sid"])
        if record.get("transcript_dir"):
            self.transcript_dir = Path(record["transcript_dir"])
        self.argv = list(record.get("argv") or [])
        self.started_at = record.get("started_at") or time.time()
        self.remote_pid = int(record["remote_pid"]) if record.get("remote_pid") is not None else None
        self._prior_nudge = record.get("nudge") if isinstance(record.get("nudge"), dict) else None
        folder = self.transcript_dir
        tail, length = await loop.run_in_executor(None, lambda: (raw_tail(folder, tail_bytes), raw_length(folder)))
        self.screen.on_reply = lambda data: None  # old queries in the replay are not answered again
        try:
            self.screen.feed(tail)
        finally:
            self.screen.on_reply = self.write
        self.recv_seq = length
        self._mine, self._theirs = socket.socketpair()
        self._mine.setblocking(False)
        self._theirs.setblocking(False)
        self._proc = RemoteProcess(self, self.remote_pid or 0)
        self.pid = None
        self._fd = self._mine.fileno()
        self.last_output_at = time.monotonic()
        self.transcript = Transcript(folder, write_through=False)
        self.link_note = f"re-adopting: connecting to node {self.node}"
        self.state_detail = self.link_note
        self.link.adopt(self, str(record["sid"]))
        self._begin()
        self._states.schedule()

    def _recorded(self) -> bool:
        """Whether this session keeps a durable record (a town's, started, not ended or being stopped)."""
        return self.spec.town is not None and self.sid is not None and not self._ended and not self._record_gone

    def _forget_record(self) -> None:
        """The session ended (or is being stopped, or was given up): no later server claims it."""
        self._record_gone = True
        if self.spec.town is not None and self.sid is not None:
            try:
                drop_record(self.spec.town, self.sid)
            except OSError as exc:
                self.link.errors.append(f"cannot remove the record of session {self.sid}: {exc}")

    # -- the link's side of the pair ---------------------------------------------------------
    def on_output(self, data: bytes) -> None:
        self._to_session += data
        self._pump()

    def on_exit(self, status: int) -> None:
        self._forget_record()
        if self._proc is not None:
            self._proc.set_status(status)
        self._ended = True
        self._pump()

    def on_link_down(self, reason: str) -> None:
        """The SSH connection dropped; the program goes on on the node and the link reconnects."""
        self.link_note = reason
        self.state_detail = f"link down, reconnecting: {reason}"
        self._write_meta()

    def on_link_up(self) -> None:
        self.link_note = None
        self.state_detail = f"link to node {self.node} back (resumed at byte {self.recv_seq})"
        self._write_meta()

    def on_link_lost(self, reason: str) -> None:
        """The end: the link was closed, the node no longer has the program, or it was gone past the grace."""
        self._forget_record()
        self.state_detail = reason
        self.link_note = reason
        if self._proc is not None:
            self._proc.set_status(None)
        self._ended = True
        self._pump()

    @property
    def link_state(self) -> str:
        """up, down, reconnecting or closed (the link's; the program may well be running meanwhile)."""
        return self.link.state

    def input_refused(self) -> str | None:
        """Why keys typed now would not reach the program (None: they would)."""
        if self.link.state == UP or self._ended:
            return None
        since = ""
        if self.link.down_since is not None:
            since = f" for {time.monotonic() - self.link.down_since:.0f}s"
        return (f"{self.agent} runs on node {self.node}, whose link is {self.link.state}{since}; "
                f"keys are not sent until it is back (the program is still running there)")

    def write(self, data: bytes) -> None:
        why = None if self._nudging else self.input_refused()
        if why is not None and data:
            self.refused = (self.refused + [why])[-10:]
            return
        super().write(data)

    async def submit(self, text: str) -> NudgeResult:
        """A nudge: waits for the link (up to nudge_link_wait), then is typed once (nodes/remote_submit.py)."""

        if self.stopping:
            return NudgeResult(False, 0, f"{self.agent} is being stopped")
        deadline = time.monotonic() + self.nudge_link_wait
        while not self.link.up:  # the nudge waits for the link (the queue keeps it if the session ends meanwhile)
            if not self.alive or self.stopping or time.monotonic() >= deadline or self.link.lost:
                return NudgeResult(False, 0, f"node {self.node}'s link is {self.link.state}; the nudge was not "
                                             f"typed ({self.link_note or self.link.lost_reason})")
            await self.link.wait_up(min(1.0, max(0.0, deadline - time.monotonic())))
        async with self._input_lock:
            if self.stopping:
                return NudgeResult(False, 0, f"{self.agent} is being stopped")
            self._nudging = True
            try:
                digest = hashlib.sha256(text.encode("utf-8", errors="replace")).hexdigest()[:32]
                prior, self._prior_nudge = self._prior_nudge, None
                taken = typed_before(self, prior, digest)
                if taken:  # the previous server typed (some of) it and died before it was marked delivered
                    return await finish_typed(self, text, taken)
                await self._mark_nudge({"digest": digest, "inputs": []})
                try:
                    return await submit_remote(self, text)
                finally:
                    await self._mark_nudge(None)
            finally:
                self._nudging = False

    async def _mark_nudge(self, mark: dict | None) -> None:
        """Which nudge is being typed (its keys are added as they go), in the durable record, for a server
        that takes this session over if this one dies meanwhile (nodes/nudge_resume.py)."""
        self.nudge_mark = mark
        if self._recorded():
            try:
                save_record(self.spec.town, self)
            except OSError as exc:
                self.link.errors.append(f"session {self.sid}: the nudge was not recorded: {exc}")

    def _pump(self) -> None:
        theirs = self._theirs
        if theirs is None:
            return
        while self._to_session:
            try:
                n = theirs.send(self._to_session)
            except BlockingIOError:
                break
            except OSError as exc:  # the Session's end is closed: nothing reads these bytes any more
                self.link.errors.append(f"session {self.sid}: {len(self._to_session)} bytes of output not shown "
                                        f"(the session's end is closed: {exc})")
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
            if self._nudging and self.nudge_mark is not None and self._recorded():  # this key of the nudge, kept first
                kind = "enter" if data.endswith(self.preset_submit_bytes()) else "text"
                self.nudge_mark.setdefault("inputs", []).append([self.link.inputs.next_iid(self.sid), kind])
                try:
                    save_record(self.spec.town, self)
                except OSError as exc:
                    self.link.errors.append(f"session {self.sid}: the nudge's progress was not recorded: {exc}")
            self.link.input(self.sid, data)  # queued while the link is down, sent again until acknowledged

    def preset_submit_bytes(self) -> bytes:
        return encode_key(self.preset.submit_key, self.screen.modes) or b"\r"

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
    async def stop(self, grace: float = 3.0) -> int | None:
        self._forget_record()  # asked to end: a later server must not take it over (its node hangs it up)
        return await super().stop(grace)

    def _watch_pidfd(self) -> None:
        pass

    async def _signal_tree(self, sig: int) -> list[int]:
        if self._proc is not None and not self._proc.terminated and self.sid is not None:
            self.link.signal_or_later(self.sid, sig)
        return []

    def kill_now(self) -> None:
        if not self.exited and self.sid is not None:
            self.link.signal_or_later(self.sid, signal.SIGKILL)

    def _reap_now(self, job) -> None:
        try:
            job()
        finally:
            self._announce_exit()

    def _meta(self) -> dict:
        return {**super()._meta(), "node": self.node, "remote_pid": self.remote_pid,
                "link": getattr(self.link, "state", None), "link_note": self.link_note}
