"""`gastown node serve --dir DIR`: the node side. The town starts it over SSH; it owns the PTYs of the
polecats placed on this node and speaks the node channel (nodes/channel.py) on its stdin/stdout.

Each session is a program in its own PTY (ptyprocess), working in a folder under DIR. Its bytes go to
the town as `output`, its end as `exit`; the town's keys come back as `input`. A bad line is answered
with an `error` and skipped, never the end of the server. When the town's connection ends (stdin EOF)
the server ends and its programs get SIGHUP: surviving a link drop is not built yet (docs/nodes.md)."""
from __future__ import annotations

import asyncio
import errno
import os
import signal
import sys
from pathlib import Path

from gastown_tui import __version__
from gastown_tui.nodes.channel import OVERLONG, PROTOCOL, BadRequest, LineSplitter, decode, encode, pack, unpack

READ_CHUNK = 65536


class NodeSession:
    def __init__(self, server: "NodeServer", sid: str, proc) -> None:
        self.server = server
        self.sid = sid
        self.proc = proc
        self.fd = proc.fd
        self.done = False
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
            self.server.send({"ev": "output", "sid": self.sid, "data": pack(data)})
            return
        self.server.loop.remove_reader(self.fd)
        self.server.loop.create_task(self.reap())

    async def reap(self) -> None:
        status = await self.server.loop.run_in_executor(None, self._wait)
        self.done = True
        self.signal(signal.SIGKILL)  # what it left behind in its process group (as a local session's reap)
        try:
            os.close(self.fd)
        except OSError:
            pass
        self.server.send({"ev": "exit", "sid": self.sid, "status": status})
        self.server.sessions.pop(self.sid, None)
        relay = self.server.relays.pop(self.sid, None)
        if relay is not None:
            relay.close()

    def _wait(self) -> int:
        try:
            _, st = os.waitpid(self.proc.pid, 0)
        except ChildProcessError:
            return -1
        return -os.WTERMSIG(st) if os.WIFSIGNALED(st) else os.WEXITSTATUS(st)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:  # keys are small; a full PTY input queue is waited out briefly rather than dropped
            try:
                n = os.write(self.fd, view)
            except BlockingIOError:
                import time

                time.sleep(0.001)
                continue
            except OSError:
                return
            view = view[n:]

    def signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)  # the program is its PTY's session leader: its whole group
        except ProcessLookupError:
            pass


RELAY_TIMEOUT = 600.0


class NodeServer:
    def __init__(self, root: Path, out) -> None:
        self.root = root
        self.out = out  # a binary file (stdout)
        self.sessions: dict[str, NodeSession] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.relays: dict[str, asyncio.AbstractServer] = {}
        self._pending: dict[str, asyncio.Future] = {}
        self._rids = 0

    def write_launchers(self) -> Path:
        """<dir>/bin/gt and bd: relay clients run by this python (what a polecat's PATH finds first)."""
        bindir = self.root / "bin"
        bindir.mkdir(exist_ok=True)
        for name in ("gt", "bd"):
            path = bindir / name
            text = f"#!/bin/sh\nexec {sys.executable} -m gastown_tui.nodes.relay_client {name} \"$@\"\n"
            tmp = path.with_name(f".{name}.tmp")
            tmp.write_text(text)
            tmp.chmod(0o755)
            tmp.replace(path)
        return bindir

    async def open_relay(self, sid: str) -> Path:
        """The session's own socket: whatever connects to it speaks for that session's agent only."""
        rundir = self.root / "run"
        rundir.mkdir(mode=0o700, exist_ok=True)
        path = rundir / f"{sid}.sock"
        if path.exists():
            path.unlink()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                line = await reader.readline()
                req = decode(line.strip() or b"{}")
                argv = req.get("argv")
                if not isinstance(argv, list) or not argv or argv[0] not in ("gt", "bd"):
                    raise BadRequest("only gt and bd commands are relayed")
                self._rids += 1
                rid = f"r{self._rids}"
                fut = self.loop.create_future()
                self._pending[rid] = fut
                self.send({"ev": "exec", "sid": sid, "rid": rid, "argv": [str(a) for a in argv],
                           "cwd": str(req.get("cwd") or "")})
                res = await asyncio.wait_for(fut, RELAY_TIMEOUT)
            except (BadRequest, asyncio.TimeoutError) as exc:
                res = {"status": 3, "stdout": "", "stderr": pack(f"relay: {exc or 'no answer from the town'}\n".encode())}
            writer.write(encode({k: res.get(k) for k in ("status", "stdout", "stderr")}))
            try:
                await writer.drain()
            finally:
                writer.close()

        self.relays[sid] = await asyncio.start_unix_server(handle, path=str(path))
        return path

    def exec_result(self, msg: dict) -> None:
        fut = self._pending.pop(str(msg.get("rid")), None)
        if fut is None or fut.done():
            raise BadRequest(f"no relayed command {msg.get('rid')!r} is waiting")
        fut.set_result(msg)

    def send(self, msg: dict) -> None:
        try:
            self.out.write(encode(msg))
            self.out.flush()
        except (BrokenPipeError, ValueError):
            pass  # the town is gone; stdin EOF ends the server

    def handle(self, msg: dict) -> None:
        op = msg.get("op")
        sid = msg.get("sid")
        try:
            if op == "hello":
                self.send({"ev": "hello", "version": __version__, "protocol": PROTOCOL, "pid": os.getpid(),
                           "dir": str(self.root)})
            elif op == "spawn":
                self.loop.create_task(self.spawn_task(msg))
            elif op == "exec-result":
                self.exec_result(msg)
            elif op == "list":
                self.send({"ev": "sessions", "sessions": [
                    {"sid": s.sid, "pid": s.proc.pid, "alive": not s.done} for s in self.sessions.values()]})
            elif op in ("input", "resize", "signal"):
                session = self.sessions.get(sid)
                if session is None:
                    raise BadRequest(f"no session {sid!r} on this node")
                if op == "input":
                    session.write(unpack(msg.get("data", "")))
                elif op == "resize":
                    session.proc.setwinsize(int(msg["rows"]), int(msg["cols"]))
                else:
                    session.signal(int(msg["sig"]))
            else:
                raise BadRequest(f"unknown op {op!r}")
        except (BadRequest, KeyError, TypeError, ValueError, OSError) as exc:
            self.send({"ev": "error", "sid": sid, "op": op, "error": f"{type(exc).__name__}: {exc}"})

    async def spawn_task(self, msg: dict) -> None:
        try:
            await self.spawn(msg)
        except (BadRequest, KeyError, TypeError, ValueError, OSError) as exc:
            self.send({"ev": "error", "sid": msg.get("sid"), "op": "spawn", "error": f"{type(exc).__name__}: {exc}"})

    async def spawn(self, msg: dict) -> None:
        from ptyprocess import PtyProcess

        sid = str(msg["sid"])
        if sid in self.sessions:
            raise BadRequest(f"session {sid!r} already exists")
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
            env["GT_NODE_SOCKET"] = str(await self.open_relay(sid))
            env["PATH"] = f"{self.write_launchers()}{os.pathsep}{env.get('PATH', os.defpath)}"
        proc = PtyProcess.spawn(argv, cwd=str(cwd), env=env,
                                dimensions=(int(msg.get("rows", 24)), int(msg.get("cols", 80))))
        session = NodeSession(self, sid, proc)
        self.sessions[sid] = session
        self.loop.add_reader(session.fd, session.on_readable)
        self.send({"ev": "spawned", "sid": sid, "pid": proc.pid})

    async def run(self, stdin_fd: int) -> int:
        self.loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=2 ** 20)
        await self.loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(stdin_fd, "rb", 0))
        splitter = LineSplitter()
        while True:
            data = await reader.read(65536)
            if not data:
                break
            for line in splitter.feed(data):
                if line is OVERLONG:
                    self.send({"ev": "error", "error": "line too long, skipped"})
                    continue
                try:
                    msg = decode(line)
                except BadRequest as exc:
                    self.send({"ev": "error", "error": str(exc)})
                    continue
                self.handle(msg)
        for session in list(self.sessions.values()):
            session.signal(signal.SIGHUP)
        return 0


def serve_stdio(dir: str) -> int:
    root = Path(dir).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # a stray print can never corrupt the channel
    server = NodeServer(root.resolve(), out)
    return asyncio.run(server.run(0))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(serve_stdio(sys.argv[1]))
