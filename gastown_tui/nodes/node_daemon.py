"""The node daemon: one per node folder, it owns the PTYs of the polecats placed on this node and outlives
the town's SSH connections (docs/nodes.md, "Faults").

`gastown node serve --dir DIR` (nodes/serve.py), run by the town over ssh, starts this daemon detached
when it is not running (its own session, its log in DIR/daemon/daemon.log) and pipes the ssh channel to
its Unix socket DIR/daemon/node.sock (0600 in a 0700 folder). When the link drops, the bridge dies with
the ssh connection; the daemon and its programs go on, and their output is kept, numbered by byte
(nodes/output_log.py). The town's next connection says, per session, the last byte it saw and the last
input id the node took, and gets exactly what it missed. The newest town connection wins: an older
one (its ssh gone quiet in a cut) is closed.

Channel (JSON lines, nodes/channel.py), in addition to the first protocol's messages:
    town -> node   hello{link} · attach{sessions:{sid:{seq}}} · input{sid,iid,data} · ping{t} · forget{sid} · hangup
    node -> town   attached{sessions:{sid:{last_iid,end,alive}},unknown} · ack{sid,iid} · pong{t,heads{sid:sha}}
                   output{sid,seq,data} (seq = offset of data's first byte in the program's output)
Inputs carry ids (iid, per session, increasing): one already taken is acknowledged and not typed again,
so a town resending across a cut types each key and nudge exactly once. A spawn naming a session that
exists answers with that session (a spawn resent across a cut starts nothing twice). A relayed gt/bd
waits in the daemon for a town connection and is sent again to each new one until answered.

The pieces: each program is a NodeSession (nodes/node_session.py), each town connection a Conn
(nodes/node_conn.py); which link may drive which program, and when one is hung up, is
nodes/node_ownership.py; relayed gt/bd are nodes/node_relay.py. This module serves the socket, takes the
bridges' channels and answers the town's requests."""
from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import signal
import socket
import stat
import sys
import time
from pathlib import Path

from gastown_tui import __version__
from gastown_tui.nodes.channel import OVERLONG, PROTOCOL, BadRequest, LineSplitter, decode, pack, unpack
from gastown_tui.nodes.daemon_log import log
from gastown_tui.nodes.node_conn import Conn
from gastown_tui.nodes.node_ownership import claim, hang_up_others, hang_up_orphans, hang_up_unclaimed, owns, town_mark
from gastown_tui.nodes.node_relay import NodeRelay
from gastown_tui.nodes.node_session import NodeSession
from gastown_tui.nodes.output_log import OutputLog
from gastown_tui.nodes.serve import daemon_dir, socket_path
from gastown_tui.sessions import child_signals

IDLE_EXIT = float(os.environ.get("GASTOWN_NODE_IDLE_EXIT", "600"))  # no sessions, no town: the daemon ends
WATCH_EVERY = 1.0


def git_head(worktree: Path) -> str | None:
    """The commit WORKTREE's HEAD is at, read from its .git files (no git process); None if not a repo."""
    gitdir = worktree / ".git"
    try:
        if gitdir.is_file():  # a linked worktree: "gitdir: PATH"
            gitdir = (worktree / gitdir.read_text().split(":", 1)[1].strip()).resolve()
        head = (gitdir / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head or None
        ref = head[4:].strip()
        common = gitdir
        if (gitdir / "commondir").is_file():
            common = (gitdir / (gitdir / "commondir").read_text().strip()).resolve()
        for base in (gitdir, common):
            if (base / ref).is_file():
                return (base / ref).read_text().strip() or None
        packed = common / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1] == ref:
                    return parts[0]
    except (OSError, IndexError):
        return None
    return None


class NodeDaemon:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.sessions: dict[str, NodeSession] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.town: Conn | None = None  # the newest town connection
        self.boot = f"{os.getpid()}-{int(time.time())}"
        self.relay = NodeRelay(root, self.boot, self.send_town)  # the sessions' relayed gt/bd (nodes/node_relay.py)
        self.idle_since = time.monotonic()
        self.stopping = asyncio.Event()
        self.heard: dict[str, float] = {}  # town link -> when it last said something (monotonic)

    # -- sending -------------------------------------------------------------------------------
    def send(self, conn: Conn | None, msg: dict) -> None:
        if conn is not None:
            conn.send(msg)

    def send_town(self, msg: dict) -> None:
        """MSG to the newest town connection, if there is one."""
        self.send(self.town, msg)

    def send_live(self, sid: str, msg: dict) -> None:
        town = self.town
        if town is not None and not town.closed and sid in town.attached:
            town.send(msg)

    # -- requests --------------------------------------------------------------------------------
    def handle(self, conn: Conn, msg: dict) -> None:
        op = msg.get("op")
        sid = msg.get("sid")
        try:
            if op == "hello":
                if self.town is not None and self.town is not conn:
                    self.town.close()  # the newest town connection wins (the old one went quiet in a cut)
                self.town = conn
                conn.link = str(msg["link"]) if msg.get("link") else None
                conn.town = town_mark(msg.get("town"))
                if msg.get("orphan_after") is not None:
                    conn.orphan_after = max(1.0, float(msg["orphan_after"]))
                if conn.link is not None:
                    self.heard[conn.link] = time.monotonic()
                    hang_up_others(self.sessions.values(), conn)
                self.send(conn, {"ev": "hello", "version": __version__, "protocol": PROTOCOL, "pid": os.getpid(),
                                 "dir": str(self.root), "boot": self.boot, "daemon": True, "live": self.live()})
            elif op == "attach":
                self.attach(conn, msg.get("sessions") or {})
            elif op == "ping":  # with the commit each session's worktree is at (the town collects what moved)
                heads = {sid: head for sid, s in self.sessions.items() if s.cwd is not None
                         and (head := git_head(s.cwd)) is not None}
                self.send(conn, {"ev": "pong", "t": msg.get("t"), "heads": heads})
            elif op == "spawn":
                self.loop.create_task(self.spawn_task(conn, msg))
            elif op == "exec-result":
                self.relay.exec_result(msg)
            elif op == "list":
                self.send(conn, {"ev": "sessions", "sessions": [s.record() for s in self.sessions.values()]})
            elif op == "forget":
                session = self.sessions.get(sid)
                if session is not None and session.done:
                    del self.sessions[sid]
                    session.log.remove()
            elif op == "hangup":  # the town closes in order: its programs end, as when the first server ended
                for session in self.sessions.values():
                    if not session.done and owns(conn, session):
                        session.signal(signal.SIGHUP)
            elif op in ("input", "resize", "signal"):
                session = self.sessions.get(sid)
                if session is None:
                    raise BadRequest(f"no session {sid!r} on this node")
                if not owns(conn, session):
                    raise BadRequest(f"session {sid!r} is not this town link's (attach claims a town's own)")
                if op == "input":
                    iid = msg.get("iid")
                    if iid is None:
                        session.write(unpack(msg.get("data", "")))
                    else:
                        iid = int(iid)
                        if iid > session.last_iid:  # an input resent across a cut is not typed twice
                            session.write(unpack(msg.get("data", "")))
                            session.last_iid = iid
                        self.send(conn, {"ev": "ack", "sid": sid, "iid": iid})
                elif op == "resize":
                    if not session.done:
                        session.proc.setwinsize(int(msg["rows"]), int(msg["cols"]))
                else:
                    session.signal(int(msg["sig"]))
            else:
                raise BadRequest(f"unknown op {op!r}")
        except (BadRequest, KeyError, TypeError, ValueError, OSError) as exc:
            self.send(conn, {"ev": "error", "sid": sid, "op": op, "error": f"{type(exc).__name__}: {exc}"})

    def attach(self, conn: Conn, wanted: dict) -> None:
        """The town's sessions resume: each gets its output from the offset the town saw, then its exit (if
        it ended meanwhile), then live output; the answer says which input id each took last."""
        if not isinstance(wanted, dict):
            raise BadRequest("attach: 'sessions' must be an object {sid: {seq}}")
        known, unknown = {}, []
        for sid, pos in wanted.items():
            session = self.sessions.get(sid)
            if session is None or not claim(session, conn):  # not this town's: never handed over
                unknown.append(sid)
                continue
            seq = int((pos or {}).get("seq", 0)) if isinstance(pos, dict) else 0
            while seq < session.log.end:
                start, data = session.log.since(seq)
                if not data:
                    break
                conn.send({"ev": "output", "sid": sid, "seq": start, "data": pack(data)})
                seq = start + len(data)
            conn.attached.add(sid)
            if session.done:
                conn.send({"ev": "exit", "sid": sid, "status": session.status, "end": session.log.end})
            known[sid] = {"last_iid": session.last_iid, "end": session.log.end, "alive": not session.done}
        conn.send({"ev": "attached", "sessions": known, "unknown": unknown})
        hang_up_unclaimed(self.sessions.values(), conn)  # this town's programs a restarted server knows nothing of
        self.relay.resend_waiting(conn)  # relayed commands still waiting for an answer

    async def spawn_task(self, conn: Conn, msg: dict) -> None:
        try:
            await self.spawn(conn, msg)
        except (BadRequest, KeyError, TypeError, ValueError, OSError) as exc:
            self.send(conn, {"ev": "error", "sid": msg.get("sid"), "op": "spawn", "error": f"{type(exc).__name__}: {exc}"})

    async def spawn(self, conn: Conn, msg: dict) -> None:
        from ptyprocess import PtyProcess

        sid = str(msg["sid"])
        if not sid or "/" in sid or sid.startswith("."):
            raise BadRequest(f"bad session id {sid!r}")
        existing = self.sessions.get(sid)
        if existing is not None and not owns(conn, existing):
            raise BadRequest(f"session {sid!r} exists and is not this town link's")
        if existing is not None:  # a spawn resent across a cut: the same session, not a second program
            conn.attached.add(sid)
            self.send(conn, {"ev": "spawned", "sid": sid, "pid": existing.proc.pid, "again": True})
            return
        argv = msg["argv"]
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            raise BadRequest("argv must be a non-empty list of strings")
        cwd = Path(msg.get("cwd") or ".")
        cwd = (cwd if cwd.is_absolute() else self.root / cwd).resolve()
        if cwd != self.root and self.root not in cwd.parents:
            raise BadRequest(f"cwd {cwd} is outside the node's folder {self.root}")
        cwd.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **{str(k): str(v) for k, v in (msg.get("env") or {}).items()}}
        if msg.get("relay"):  # gt and bd reach the town through this session's socket
            env["GT_NODE_SOCKET"] = str(await self.relay.open(sid))
            env["PATH"] = f"{self.relay.write_launchers()}{os.pathsep}{env.get('PATH', os.defpath)}"
        proc = PtyProcess.spawn(argv, cwd=str(cwd), env=env, preexec_fn=child_signals.reset,
                                dimensions=(int(msg.get("rows", 24)), int(msg.get("cols", 80))))
        session = NodeSession(sid, proc, OutputLog(self.root / "sessions" / f"{sid}.out"), cwd, loop=self.loop,
                              send_live=self.send_live, on_end=self.relay.close)
        session.owner = conn.link
        session.town = conn.town
        session.orphan_after = conn.orphan_after
        self.sessions[sid] = session
        conn.attached.add(sid)
        self.loop.add_reader(session.fd, session.on_readable)
        self.send(conn, {"ev": "spawned", "sid": sid, "pid": proc.pid})

    # -- connections -----------------------------------------------------------------------------
    async def accept(self, listener: socket.socket) -> None:
        while True:
            ctl, _ = await self.loop.sock_accept(listener)
            self.loop.create_task(self.take(ctl))

    async def take(self, ctl: socket.socket) -> None:
        """A bridge hands over its ssh channel: its stdin and stdout, passed as fds (SCM_RIGHTS), so the
        daemon reads and writes the ssh pipes itself (no copy through the bridge). The bridge waits on
        CTL and ends when the daemon closes it (the channel is done)."""
        ctl.setblocking(False)
        fds: list[int] = []
        try:
            ready = self.loop.create_future()
            self.loop.add_reader(ctl.fileno(), lambda: ready.done() or ready.set_result(None))
            try:
                await asyncio.wait_for(ready, 10)
            finally:
                self.loop.remove_reader(ctl.fileno())
            msg, fds, _, _ = socket.recv_fds(ctl, 64, 4)
            if msg == b"replace" and not fds:  # a bridge of another gastown version (nodes/serve.py)
                self.replace_if_idle(ctl)
                return
            if msg != b"fds" or len(fds) != 2:
                raise OSError(f"expected the bridge's stdin and stdout, got {msg[:20]!r} with {len(fds)} fds")
            st0, st1 = os.fstat(fds[0]), os.fstat(fds[1])
            if stat.S_ISSOCK(st0.st_mode) and (st0.st_dev, st0.st_ino) == (st1.st_dev, st1.st_ino):
                # One socket both ways (an sshd built without USE_PIPES gives a socketpair): a stream on it.
                os.close(fds[1])
                fds[1] = -1
                reader, writer = await asyncio.open_unix_connection(sock=socket.socket(fileno=fds[0]),
                                                                    limit=2 ** 20)
                fds[0] = -1
                try:
                    await self.serve_conn(reader, writer)
                finally:
                    writer.close()
                    ctl.close()
                return
            reader = asyncio.StreamReader(limit=2 ** 20)
            rtransport, _ = await self.loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                                              os.fdopen(fds[0], "rb", 0))
            fds[0] = -1
            wtransport, wproto = await self.loop.connect_write_pipe(asyncio.streams.FlowControlMixin,
                                                                    os.fdopen(fds[1], "wb", 0))
            fds[1] = -1
        except (asyncio.TimeoutError, OSError) as exc:
            log(f"a connection without a channel was dropped: {exc}")
            for fd in fds:
                if fd >= 0:
                    os.close(fd)
            ctl.close()
            return
        writer = asyncio.StreamWriter(wtransport, wproto, reader, self.loop)
        try:
            await self.serve_conn(reader, writer, rtransport.close)
        finally:
            rtransport.close()
            writer.close()
            ctl.close()

    def live(self) -> int:
        return sum(1 for s in self.sessions.values() if not s.done)

    def replace_if_idle(self, ctl: socket.socket) -> None:
        """A `node serve` of another gastown version (just installed) asks to replace this daemon: yes when no
        program runs here and no town is connected (this daemon ends; the bridge starts the installed one);
        no (with the count) otherwise: the programs go on, and the town places nothing here meanwhile."""
        live = self.live()
        if live or (self.town is not None and not self.town.closed) or self.relay.waiting:
            answer = f"no {live}".encode()
        else:
            answer = b"yes"
            log(f"a node serve of another gastown version asked to replace this daemon ({__version__}): ending")
            self.stopping.set()
        try:
            ctl.setblocking(True)
            ctl.settimeout(2)
            ctl.sendall(answer)
        except OSError:
            pass
        ctl.close()

    async def serve_conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, on_close=None) -> None:
        conn = Conn(writer, on_close)
        splitter = LineSplitter()
        try:
            while not conn.closed:
                data = await reader.read(65536)
                if not data:
                    break
                for line in splitter.feed(data):
                    if line is OVERLONG:
                        conn.send({"ev": "error", "error": "line too long, skipped"})
                        continue
                    try:
                        msg = decode(line)
                    except BadRequest as exc:
                        conn.send({"ev": "error", "error": str(exc)})
                        continue
                    self.handle(conn, msg)
                if conn.link is not None:
                    self.heard[conn.link] = time.monotonic()
        except ConnectionError:
            pass
        finally:
            conn.close()
            if self.town is conn:
                self.town = None
                self.idle_since = time.monotonic()

    async def idle_watch(self) -> None:
        while not self.stopping.is_set():
            await asyncio.sleep(WATCH_EVERY)
            hang_up_orphans(self.sessions.values(), self.heard, time.monotonic())
            busy = self.town is not None or any(not s.done for s in self.sessions.values()) or self.relay.waiting
            if busy:
                self.idle_since = time.monotonic()
            elif time.monotonic() - self.idle_since > IDLE_EXIT:
                log(f"idle for {IDLE_EXIT:g}s (no sessions, no town): ending")
                self.stopping.set()

    async def run(self, sock: Path) -> int:
        self.loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(sig, self.stopping.set)
        self.loop.add_signal_handler(signal.SIGHUP, lambda: None)  # its starter's session ending is no reason
        if sock.exists() or sock.is_symlink():
            sock.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            listener.bind(str(sock))
        finally:
            os.umask(old)
        os.chmod(sock, 0o600)
        listener.listen(16)
        listener.setblocking(False)
        log(f"serving {sock} (gastown {__version__}, boot {self.boot})")
        idle = self.loop.create_task(self.idle_watch())
        accepting = self.loop.create_task(self.accept(listener))
        await self.stopping.wait()
        idle.cancel()
        accepting.cancel()
        listener.close()
        for session in self.sessions.values():
            if not session.done:
                session.signal(signal.SIGHUP)
        log("stopped; sessions hung up")
        return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="gastown-node-daemon")
    p.add_argument("--dir", required=True)
    args = p.parse_args(argv)
    root = Path(args.dir).expanduser().resolve()
    ddir = daemon_dir(root)
    ddir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(ddir, 0o700)
    lock = open(ddir / "daemon.lock", "a+")
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another daemon owns this folder (two bridges started at once): it serves
    pidfile = ddir / "daemon.pid"
    for path, text in ((ddir / "daemon.version", f"{__version__}\n"), (pidfile, f"{os.getpid()}\n")):
        tmp = path.with_name(f".{path.name}.tmp")  # the version first: `node check` reads it beside a live pid
        tmp.write_text(text)
        tmp.replace(path)
    try:
        return asyncio.run(NodeDaemon(root).run(socket_path(root)))
    finally:
        try:
            if pidfile.read_text().strip() == str(os.getpid()):
                pidfile.unlink()
        except OSError:
            pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
