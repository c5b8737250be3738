"""The town's end of one node: `ssh node <python> -m gastown_tui.cli node serve --dir DIR`, one subprocess
whose stdio carries the node channel (nodes/channel.py) for every session placed there — and, when that
connection drops, the next one (docs/nodes.md, "Faults").

`NodeLink.open()` connects and waits for the node's hello (a refused login or an unknown host key is a
NodeError naming the node); each connection is one ssh process, a nodes/link_conn.py `LinkConn`. Sessions register a handler per `sid`; output and exit events are
dispatched to it on the loop. Reading never blocks the loop (asyncio pipes).

Link drops. The town pings the node every PING_INTERVAL; a link silent for LINK_TIMEOUT (or whose ssh
ended) is down: its ssh is killed, every handler hears `on_link_down`, and the link reconnects with
backoff (BACKOFF_FIRST doubling up to BACKOFF_MAX, later BACKOFF_SLOW; each attempt with a short connect
timeout, so the first attempt after the link heals is at most ~2 s away) for as long
as it is not closed. On each new connection it re-attaches every session from the last byte its
handler saw (`recv_seq`), so the screens get what happened meanwhile, with no gap and no repeat; inputs
carry ids and the ones the node did not acknowledge are sent again (the node skips those it took), so
keys and nudges are typed exactly once (nodes/input_ledger.py keeps those books); a relayed gt/bd the
node asks again is answered from the first run, never run twice (nodes/link_exec.py). Handlers hear `on_link_up` when their stream is resumed. `on_link_lost` is the
end: the link was closed, or the node no longer has the session (its daemon restarted).

A restarted town (nodes/remote_adoption.py): the hello carries the town's proof (nodes/town_identity.py);
sessions an earlier server started are registered with `adopt` and the link connects with `resume`, as a
reconnect, so its first `attach` claims them. Every first connection attaches, so the node hangs up the
town's programs no session claims. A daemon of another gastown version keeps its programs streaming but
`spawn` refuses (`VersionMismatch`); another channel protocol is refused at the hello."""
from __future__ import annotations

import asyncio
import itertools
import logging
import shlex
import time
import uuid

from gastown_tui import __version__
from gastown_tui.nodes.channel import PROTOCOL, pack, unpack
from gastown_tui.nodes.input_ledger import InputLedger
from gastown_tui.nodes.link_conn import LinkConn, LinkDown
from gastown_tui.nodes.link_exec import LinkExec
from gastown_tui.nodes.registry import Node
from gastown_tui.nodes.ssh import NodeError, ssh_argv

log = logging.getLogger(__name__)

HELLO_TIMEOUT = 30.0
PING_INTERVAL = 1.0
LINK_TIMEOUT = 4.0  # nothing heard from the node for this long: the link is down
BACKOFF_FIRST = 0.25
BACKOFF_MAX = 0.5  # between attempts for the first BACKOFF_SLOW_AFTER seconds down (a quick resume)...
BACKOFF_SLOW_AFTER = 60.0
BACKOFF_SLOW = 5.0  # ...then this (a node gone for long costs an ssh attempt every few seconds)
ATTEMPT_CONNECT_TIMEOUT = 2  # ssh's ConnectTimeout on a reconnect (a cut link's SYNs go unanswered)
ATTEMPT_TIMEOUT = 8.0  # a reconnect attempt with no hello by then is given up and tried again

UP, DOWN, RECONNECTING, CLOSED = "up", "down", "reconnecting", "closed"


def mismatch(node: str, theirs: str, ours: str, extra: str = "") -> str:
    return (f"node {node}: its node daemon runs gastown {theirs}, the town runs {ours}{extra}; "
            f"`gastown node install {node}` installs the town's version (the daemon is replaced once its "
            f"programs have ended); nothing was started there")


def _future() -> asyncio.Future:
    """A future for a node's answer; its exception counts as seen even when nobody waits any more."""
    fut = asyncio.get_running_loop().create_future()
    fut.add_done_callback(lambda f: f.cancelled() or f.exception())
    return fut


class VersionMismatch(NodeError):
    """The node daemon runs another gastown version than the town (nothing is started there)."""


class SessionHandler:
    """What a remote session gets from its link (RemoteSession implements it)."""

    sid: str | None = None
    recv_seq: int = 0  # the offset after the last output byte received

    def on_output(self, data: bytes) -> None: ...
    def on_exit(self, status: int) -> None: ...
    def on_link_down(self, reason: str) -> None: ...
    def on_link_up(self) -> None: ...
    def on_link_lost(self, reason: str) -> None: ...


class NodeLink:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.conn: LinkConn | None = None  # the current ssh connection (nodes/link_conn.py)
        self.hello: dict | None = None
        self.handlers: dict[str, SessionHandler] = {}
        self.errors: list[str] = []  # error events not tied to a waiting request
        self._waiting: dict[tuple[str, str], asyncio.Future] = {}
        self.lost_reason: str | None = None  # why the link last went down (or was closed)
        self._ids = itertools.count(1)
        self.closed = asyncio.Event()
        # Relayed gt/bd, each run once; its `runner` (set by the town) runs them (nodes/link_exec.py).
        self.execs = LinkExec(self.handlers.get, self._write_current)
        self._opening: asyncio.Lock | None = None
        self.state = "new"
        self.state_changed = asyncio.Event()
        self.down_since: float | None = None  # monotonic
        self.attempts = 0  # reconnect attempts since the link went down
        self.reconnects = 0  # times it came back
        self.gaps = 0  # bytes the node could no longer give back on a resume (0 unless its disk failed)
        self.inputs = InputLedger()  # the inputs sent, by id, until the node takes them (nodes/input_ledger.py)
        self._later_signals: dict[str, int] = {}  # sid -> signal asked for while the link was down
        self._reconnect_task: asyncio.Task | None = None
        self._ping_task: asyncio.Task | None = None
        self.token = uuid.uuid4().hex  # this link across its reconnects; the node hangs up other links' programs
        self.listeners: list = []  # fn(link) on each state change (the app's node health, the grace watch)
        self.heads: dict[str, str] = {}  # sid -> the commit its worktree on the node was last reported at
        self.head_listeners: list = []  # fn(link, sid, sha) when a reported commit moves
        # The town's proof of identity for this node (nodes/town_identity.py): with it, a restarted town
        # server claims the programs an earlier server of the same town started there (`adopt`).
        self.town_proof: str | None = None
        self.orphan_after: float | None = None  # the node hangs up programs whose town is silent this long
        self._adopted: set[str] = set()  # sids taken over from an earlier server, not attached yet

    def serve_command(self) -> str:
        return (f"{shlex.quote(self.node.python)} -m gastown_tui.cli node serve "
                f"--dir {shlex.quote(self.node.dir)}")  # node serve expands a leading ~ itself

    @property
    def proc(self) -> asyncio.subprocess.Process | None:
        return self.conn.proc if self.conn is not None else None

    @property
    def lost(self) -> bool:
        """Closed (a new link must be opened). A link that is down but reconnecting is not lost."""
        return self.closed.is_set()

    @property
    def up(self) -> bool:
        return self.state == UP

    def _set_state(self, state: str) -> None:
        if state == self.state:
            return
        self.state = state
        self.state_changed.set()
        self.state_changed = asyncio.Event()
        for fn in list(self.listeners):
            try:
                fn(self)
            except Exception:  # a listener's bug never breaks the link; the log says which and why
                log.exception("node %s: a link state listener %r failed", self.node.name, fn)

    async def wait_up(self, timeout: float | None = None) -> bool:
        """Waits until the link is up; False on timeout or when it is closed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.state != UP:
            if self.state == CLOSED:
                return False
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            try:
                await asyncio.wait_for(self.state_changed.wait(), left)
            except asyncio.TimeoutError:
                return False
        return True

    async def ensure_open(self) -> dict:
        """Opens the link unless it is open (one open at a time, however many sessions start at once);
        a link that is down waits for its reconnection (up to HELLO_TIMEOUT)."""
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self.state == UP:
                return self.hello
            if self.lost:
                raise NodeError(self.lost_reason or f"node {self.node.name}: the link was closed")
            if self.state == "new":
                return await self.open()
        if not await self.wait_up(HELLO_TIMEOUT):
            raise NodeError(f"node {self.node.name} ({self.node.where}): the link is down "
                            f"({self.lost_reason or 'reconnecting'}); nothing was started there")
        return self.hello

    # -- connecting ------------------------------------------------------------------------------
    async def _connect(self, connect_timeout: int | None, hello_timeout: float) -> dict:
        argv = ssh_argv(self.node, self.serve_command())
        if connect_timeout is not None:
            argv = [f"ConnectTimeout={connect_timeout}" if a.startswith("ConnectTimeout=") else a for a in argv]
        hello = _future()
        self._waiting[("hello", "")] = hello
        conn = self.conn = await LinkConn.start(self.node, argv, self._message, self.errors.append, self._conn_ended)
        hello_msg = {"op": "hello", "town_version": __version__, "link": self.token}
        if self.town_proof is not None:
            hello_msg["town"] = self.town_proof
        if self.orphan_after is not None:
            hello_msg["orphan_after"] = self.orphan_after
        self._write(conn, hello_msg)
        try:
            msg = await asyncio.wait_for(hello, hello_timeout)
        except asyncio.TimeoutError:
            conn.kill()
            await conn.ended.wait()
            raise NodeError(f"node {self.node.name} ({self.node.where}): `gastown node serve` did not answer "
                            f"within {hello_timeout:g}s") from None
        except NodeError:
            await conn.ended.wait()
            raise
        if msg.get("protocol") != PROTOCOL:  # a channel this town cannot speak: nothing can be resumed either
            reason = mismatch(self.node.name, str(msg.get("version")), __version__,
                              f" (channel protocol {msg.get('protocol')}, the town speaks {PROTOCOL})")
            conn.kill(reason)
            await conn.ended.wait()
            raise VersionMismatch(reason)
        return msg

    async def open(self) -> dict:
        try:
            hello = await self._connect(None, HELLO_TIMEOUT)
        except VersionMismatch:
            self._set_state(CLOSED)
            self.closed.set()
            raise
        try:  # says which of this town's programs the node keeps (none, on a first open: the rest end)
            await self._attach()
        except (NodeError, asyncio.TimeoutError) as exc:
            if self.conn is not None:
                self.conn.kill()
                await self.conn.ended.wait()
            self._set_state(CLOSED)
            self.closed.set()
            raise NodeError(f"node {self.node.name} ({self.node.where}): no answer to the first attach "
                            f"({exc or 'timeout'})") from None
        self.hello = hello
        self._set_state(UP)
        self._ping_task = asyncio.get_running_loop().create_task(self._pinger())
        return self.hello

    async def _reconnect(self) -> None:
        delay = BACKOFF_FIRST
        self.attempts = 0
        while not self.lost:
            self.attempts += 1
            self._set_state(RECONNECTING)
            try:
                hello = await self._connect(ATTEMPT_CONNECT_TIMEOUT, ATTEMPT_TIMEOUT)
                await self._attach()
            except VersionMismatch as exc:  # another gastown now answers there: its sessions cannot resume
                self.lost_reason = str(exc)
                await self.close(hangup=False)
                return
            except (NodeError, asyncio.TimeoutError) as exc:
                self.lost_reason = str(exc) or f"node {self.node.name}: no answer to the resume"
                if self.conn is not None and not self.conn.ended.is_set():
                    self.conn.kill()
                self._set_state(DOWN)
                await asyncio.sleep(delay)
                down_for = time.monotonic() - (self.down_since or time.monotonic())
                delay = min(BACKOFF_MAX if down_for < BACKOFF_SLOW_AFTER else BACKOFF_SLOW, delay * 2)
                continue
            self.hello = hello
            self.reconnects += 1
            self.down_since = None
            self._set_state(UP)
            for handler in list(self.handlers.values()):
                handler.on_link_up()
            return

    async def _attach(self) -> None:
        """Every session resumes from the last byte its handler saw; unacknowledged inputs go again."""
        fut = _future()
        self._waiting[("attached", "")] = fut
        self._write(self.conn, {"op": "attach", "sessions": {
            sid: {"seq": h.recv_seq} for sid, h in self.handlers.items()}})
        msg = await asyncio.wait_for(fut, ATTEMPT_TIMEOUT)
        for sid, rec in (msg.get("sessions") or {}).items():
            last = int(rec.get("last_iid") or 0)
            if sid in self._adopted:  # an earlier server's session: this link's input ids follow the node's
                self._adopted.discard(sid)
                self.inputs.adopt(sid, last)
            for iid, data in self.inputs.to_resend(sid, last):
                self._write(self.conn, {"op": "input", "sid": sid, "iid": iid, "data": pack(data)})
        for sid, sig in list(self._later_signals.items()):
            self._write(self.conn, {"op": "signal", "sid": sid, "sig": int(sig)})
            del self._later_signals[sid]
        for sid in msg.get("unknown") or []:
            handler = self.handlers.pop(sid, None)
            self._adopted.discard(sid)
            if handler is not None:
                handler.on_link_lost(f"node {self.node.name}: the node no longer has this session "
                                     f"(its daemon was restarted); the program is gone")

    async def _pinger(self) -> None:
        while not self.lost:
            await asyncio.sleep(PING_INTERVAL)
            conn = self.conn
            if self.state != UP or conn is None or conn.ended.is_set():
                continue
            if time.monotonic() - conn.last_heard > LINK_TIMEOUT:
                conn.kill(f"node {self.node.name} ({self.node.where}): no answer for {LINK_TIMEOUT:g}s "
                          f"(the link dropped?)")
                continue
            try:
                self._write(conn, {"op": "ping", "t": time.time()})
            except NodeError:
                pass

    def _write(self, conn: LinkConn | None, msg: dict) -> None:
        if conn is None or not conn.writable:
            raise LinkDown(f"node {self.node.name}: the link is {'closed' if self.lost else 'down'}")
        conn.write(msg)

    def _write_current(self, msg: dict) -> None:
        """MSG on the current connection, whatever the link's state (LinkDown when there is none)."""
        self._write(self.conn, msg)

    def _send(self, msg: dict) -> None:
        if self.state != UP:
            raise LinkDown(f"node {self.node.name}: the link is {'closed' if self.lost else 'down'}"
                           f"{'' if self.lost else ' (reconnecting)'}")
        self._write(self.conn, msg)

    def _message(self, conn: LinkConn, msg: dict) -> None:
        if conn is self.conn:  # (an older connection's last lines are not the link's any more)
            self._dispatch(msg)

    def _conn_ended(self, conn: LinkConn, reason: str) -> None:
        if conn is self.conn:
            self._ended(reason)

    def _ended(self, reason: str) -> None:
        """The current connection ended: fail what waits on it; then reconnect (or, closed, end the sessions)."""
        for fut in self._waiting.values():
            if not fut.done():
                fut.set_exception(LinkDown(reason))
        self._waiting.clear()
        self.lost_reason = reason
        if self.closed.is_set() or self.state == CLOSED:
            return
        if self.state == UP:
            self.down_since = time.monotonic()
            self._set_state(DOWN)
            for handler in list(self.handlers.values()):
                handler.on_link_down(reason)
            self._reconnect_task = asyncio.get_running_loop().create_task(
                self._reconnect(), name=f"node-reconnect-{self.node.name}")
        elif self.state == "new":
            self._set_state(CLOSED)
            self.closed.set()

    def _dispatch(self, msg: dict) -> None:
        ev = msg.get("ev")
        sid = str(msg.get("sid") or "")
        if ev == "output":
            handler = self.handlers.get(sid)
            if handler is not None:
                data = unpack(msg.get("data", ""))
                seq = msg.get("seq")
                if seq is not None:
                    seq = int(seq)
                    have = handler.recv_seq
                    if seq + len(data) <= have:
                        return  # already on the screen (sent again on a resume)
                    if seq > have:
                        self.gaps += seq - have
                        self.errors.append(f"node {self.node.name}: session {sid} lost {seq - have} bytes of output")
                    else:
                        data = data[have - seq:]
                    handler.recv_seq = max(seq, have) + len(data)
                else:
                    handler.recv_seq += len(data)
                handler.on_output(data)
        elif ev == "exit":
            handler = self.handlers.pop(sid, None)
            self.inputs.forget(sid)
            if handler is not None:
                handler.on_exit(int(msg.get("status", -1) if msg.get("status") is not None else -1))
            try:
                self._send({"op": "forget", "sid": sid})
            except NodeError:
                pass
        elif ev == "ack":
            self.inputs.acked(sid, int(msg.get("iid") or 0))
        elif ev == "pong":
            heads = msg.get("heads")
            if isinstance(heads, dict):
                for hsid, sha in heads.items():
                    if isinstance(sha, str) and self.heads.get(hsid) != sha:
                        self.heads[hsid] = sha
                        for fn in list(self.head_listeners):
                            try:
                                fn(self, hsid, sha)
                            except Exception:  # a listener's bug never breaks the link; the log says which
                                log.exception("node %s: a commit listener %r failed for session %s",
                                              self.node.name, fn, hsid)
        elif ev == "exec":
            self.execs.requested(sid, msg)
        elif ev in ("hello", "spawned", "sessions", "attached"):
            fut = self._waiting.pop((ev if ev != "spawned" else "spawn", sid if ev == "spawned" else ""), None)
            if fut is not None and not fut.done():
                fut.set_result(msg)
        elif ev == "error":
            fut = self._waiting.pop((msg.get("op") or "", sid), None)
            text = f"node {self.node.name}: {msg.get('error')}"
            if fut is not None and not fut.done():
                fut.set_exception(NodeError(text))
            else:
                self.errors.append(text)

    # -- sessions --------------------------------------------------------------------------------------
    def adopt(self, handler, sid: str) -> None:
        """HANDLER takes over session SID, which an earlier server of this town started on the node; it
        resumes from its `recv_seq` when the link connects (`resume`)."""
        self.handlers[sid] = handler
        handler.sid = sid
        self._adopted.add(sid)

    def resume(self, why: str) -> None:
        """Connects in the background, as a reconnect: the adopted sessions are claimed and resumed by the
        first attach (the node hangs up this town's programs no session claims); until then the link is
        down (keys refused, nudges wait) and, past the grace, the node counts as gone."""
        if self.state != "new":
            return
        self.lost_reason = why
        self.down_since = time.monotonic()
        self._set_state(DOWN)
        loop = asyncio.get_running_loop()
        self._reconnect_task = loop.create_task(self._reconnect(), name=f"node-resume-{self.node.name}")
        self._ping_task = loop.create_task(self._pinger())

    async def spawn(self, handler, argv: list[str], cwd: str, env: dict[str, str], cols: int, rows: int,
                    sid: str | None = None, relay: bool = False) -> int:
        """Starts ARGV in a PTY on the node (CWD relative to the node's folder); its remote pid. A spawn
        cut off by a link drop is sent again with the same sid once the link is back (the node starts it
        at most once)."""
        if self.hello is not None and self.hello.get("version") != __version__:
            # The programs already there go on (the channel is the same); nothing new starts on another version.
            live = self.hello.get("live")
            raise VersionMismatch(mismatch(self.node.name, str(self.hello.get("version")), __version__,
                                           f" ({live} program(s) running there)" if live else ""))
        sid = sid or f"s{next(self._ids)}"
        self.handlers[sid] = handler
        handler.sid = sid
        msg = {"op": "spawn", "sid": sid, "argv": argv, "cwd": cwd, "env": env, "cols": cols, "rows": rows,
               "relay": relay}
        deadline = time.monotonic() + HELLO_TIMEOUT
        try:
            while True:
                if not await self.wait_up(max(0.0, deadline - time.monotonic())):
                    raise NodeError(f"node {self.node.name} ({self.node.where}): the link is down "
                                    f"({self.lost_reason}); nothing was started there")
                fut = _future()
                self._waiting[("spawn", sid)] = fut
                try:
                    self._send(msg)
                    reply = await asyncio.wait_for(fut, max(0.1, deadline - time.monotonic()))
                except LinkDown:
                    continue
                except asyncio.TimeoutError:
                    raise NodeError(f"node {self.node.name}: no answer to starting {argv[0]} "
                                    f"within {HELLO_TIMEOUT:g}s") from None
                return int(reply["pid"])
        except BaseException:
            self.handlers.pop(sid, None)
            raise

    def input(self, sid: str, data: bytes) -> int:
        """Sends DATA as the session's next input (queued while the link is down, sent again after a cut
        until the node acknowledges it; the node types each id once). Its id."""
        iid = self.inputs.record(sid, data)
        if self.state == UP:
            try:
                self._write(self.conn, {"op": "input", "sid": sid, "iid": iid, "data": pack(data)})
            except NodeError:
                pass  # the link just dropped: sent again on the reconnect
        return iid

    def signal_or_later(self, sid: str, sig: int) -> None:
        """SIG to the session's program now, or (the link down) as soon as the link is back."""
        try:
            self.signal(sid, sig)
        except NodeError:
            self._later_signals[sid] = sig

    def resize(self, sid: str, cols: int, rows: int) -> None:
        self._send({"op": "resize", "sid": sid, "cols": cols, "rows": rows})

    def signal(self, sid: str, sig: int) -> None:
        self._send({"op": "signal", "sid": sid, "sig": int(sig)})

    def cut_now(self, reason: str = "cut by the town") -> None:
        """Kills the current ssh connection (what a dropped link does); the link reconnects."""
        conn = self.conn
        if conn is not None and not conn.ended.is_set():
            conn.kill(f"node {self.node.name}: {reason}")

    async def close(self, hangup: bool = True) -> None:
        """Closes the link for good. HANGUP (the default, an orderly close of the town): the node's
        programs get SIGHUP, as when the first node server ended; without it they go on."""
        if self.state == CLOSED:
            return
        was_up = self.state == UP
        self.lost_reason = self.lost_reason if not was_up else f"node {self.node.name}: the link was closed"
        self._set_state(CLOSED)
        self.closed.set()
        for task in (self._reconnect_task, self._ping_task):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        conn = self.conn
        if conn is not None and not conn.ended.is_set():
            if was_up and hangup:
                try:
                    self._write(conn, {"op": "hangup"})
                except NodeError:
                    pass
            # The sessions hear their exits before the stdin closes (the node sends them as they end).
            if was_up and hangup and self.handlers:
                deadline = time.monotonic() + 5
                while self.handlers and time.monotonic() < deadline and not conn.ended.is_set():
                    await asyncio.sleep(0.05)
            conn.close_stdin()
            try:
                await asyncio.wait_for(conn.ended.wait(), 10)
            except asyncio.TimeoutError:
                conn.kill()
                await conn.ended.wait()
        reason = self.lost_reason or f"node {self.node.name}: the link was closed"
        for fut in self._waiting.values():
            if not fut.done():
                fut.set_exception(NodeError(reason))
        self._waiting.clear()
        for handler in list(self.handlers.values()):
            handler.on_link_lost(reason)
        self.handlers.clear()
