"""The town's end of one node: `ssh node <python> -m gastown_tui.cli node serve --dir DIR`, kept as one
subprocess whose stdio carries the node channel (nodes/channel.py) for every session placed there.

`NodeLink.open()` connects and waits for the node's hello (a refused login or an unknown host key is a
NodeError naming the node). Sessions register a handler per `sid`; output and exit events are
dispatched to it on the loop. Reading never blocks the loop (asyncio pipes)."""
from __future__ import annotations

import asyncio
import itertools
import shlex

from gastown_tui import __version__
from gastown_tui.nodes.channel import OVERLONG, BadRequest, LineSplitter, decode, encode, pack, unpack
from gastown_tui.nodes.registry import Node
from gastown_tui.nodes.ssh import NodeError, explain, ssh_argv

HELLO_TIMEOUT = 30.0


class SessionHandler:
    """What a remote session gets from its link (RemoteSession implements it)."""

    def on_output(self, data: bytes) -> None: ...
    def on_exit(self, status: int) -> None: ...
    def on_link_lost(self, reason: str) -> None: ...


class NodeLink:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.proc: asyncio.subprocess.Process | None = None
        self.hello: dict | None = None
        self.handlers: dict[str, SessionHandler] = {}
        self.errors: list[str] = []  # error events not tied to a waiting request
        self._waiting: dict[tuple[str, str], asyncio.Future] = {}
        self._reader: asyncio.Task | None = None
        self._stderr = bytearray()
        self._stderr_task: asyncio.Task | None = None
        self.lost_reason: str | None = None
        self._ids = itertools.count(1)
        self.closed = asyncio.Event()
        # async (session handler, argv, node cwd) -> (status, stdout bytes, stderr bytes): runs a relayed gt/bd
        self.exec_handler = None
        self._opening: asyncio.Lock | None = None

    def serve_command(self) -> str:
        return (f"{shlex.quote(self.node.python)} -m gastown_tui.cli node serve "
                f"--dir {shlex.quote(self.node.dir)}")  # node serve expands a leading ~ itself

    @property
    def lost(self) -> bool:
        """Opened once and ended since (a new link must be opened)."""
        return self.closed.is_set()

    async def ensure_open(self) -> dict:
        """Opens the link unless it is open (one open at a time, however many sessions start at once)."""
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self.hello is not None and not self.lost:
                return self.hello
            if self.lost:
                raise NodeError(self.lost_reason or f"node {self.node.name}: the link was lost")
            return await self.open()

    async def open(self) -> dict:
        argv = ssh_argv(self.node, self.serve_command())
        self.proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        loop = asyncio.get_running_loop()
        hello = loop.create_future()
        self._waiting[("hello", "")] = hello
        self._reader = loop.create_task(self._read(), name=f"node-link-{self.node.name}")
        self._stderr_task = loop.create_task(self._read_stderr())
        self._send({"op": "hello", "town_version": __version__})
        try:
            self.hello = await asyncio.wait_for(hello, HELLO_TIMEOUT)
        except asyncio.TimeoutError:
            await self.close()
            raise NodeError(f"node {self.node.name} ({self.node.where}): `gastown node serve` did not answer "
                            f"within {HELLO_TIMEOUT:g}s") from None
        return self.hello

    def _send(self, msg: dict) -> None:
        if self.proc is None or self.proc.stdin is None or self.proc.stdin.is_closing():
            raise NodeError(f"node {self.node.name}: the link is closed")
        self.proc.stdin.write(encode(msg))

    async def _read_stderr(self) -> None:
        while True:
            chunk = await self.proc.stderr.read(4096)
            if not chunk:
                return
            self._stderr += chunk[-8192:]
            del self._stderr[:-8192]

    async def _read(self) -> None:
        splitter = LineSplitter()
        try:
            while True:
                data = await self.proc.stdout.read(65536)
                if not data:
                    break
                for line in splitter.feed(data):
                    if line is OVERLONG:
                        self.errors.append("an over-long line from the node was skipped")
                        continue
                    try:
                        self._dispatch(decode(line))
                    except BadRequest as exc:
                        self.errors.append(f"bad line from the node: {exc}")
        finally:
            status = await self.proc.wait()
            try:
                await asyncio.wait_for(self._stderr_task, 5)
            except asyncio.TimeoutError:
                pass
            reason = (explain(self.node, self._stderr.decode(errors="replace")) if status == 255 else
                      f"node {self.node.name}: `gastown node serve` ended with status {status}: "
                      f"{self._stderr.decode(errors='replace').strip()[-300:]}")
            for fut in self._waiting.values():
                if not fut.done():
                    fut.set_exception(NodeError(reason))
            self._waiting.clear()
            self.lost_reason = reason
            for handler in list(self.handlers.values()):
                handler.on_link_lost(reason)
            self.closed.set()

    def _dispatch(self, msg: dict) -> None:
        ev = msg.get("ev")
        sid = str(msg.get("sid") or "")
        if ev == "output":
            handler = self.handlers.get(sid)
            if handler is not None:
                handler.on_output(unpack(msg.get("data", "")))
        elif ev == "exit":
            handler = self.handlers.pop(sid, None)
            if handler is not None:
                handler.on_exit(int(msg.get("status", -1)))
        elif ev == "exec":
            handler = self.handlers.get(sid)
            rid = msg.get("rid")
            if handler is None or self.exec_handler is None:
                self._send({"op": "exec-result", "rid": rid, "status": 3, "stdout": "",
                            "stderr": pack(b"relay: the town runs no commands for this session\n")})
            else:
                asyncio.get_running_loop().create_task(self._exec(handler, rid, msg))
        elif ev in ("hello", "spawned", "sessions"):
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

    async def _exec(self, handler, rid, msg: dict) -> None:
        """A relayed gt/bd: run by the town as the agent of the session the request came through (the
        node names the session; the town decides who that is)."""
        try:
            status, out, err = await self.exec_handler(handler, [str(a) for a in msg.get("argv") or []],
                                                       str(msg.get("cwd") or ""))
        except Exception as exc:  # the relayed command must get an answer whatever went wrong here
            status, out, err = 3, b"", f"relay: the town could not run it: {exc}\n".encode()
        try:
            self._send({"op": "exec-result", "rid": rid, "status": status, "stdout": pack(out), "stderr": pack(err)})
        except NodeError:
            pass  # the link is gone: the relay client sees no answer and says so

    async def spawn(self, handler, argv: list[str], cwd: str, env: dict[str, str], cols: int, rows: int,
                    sid: str | None = None, relay: bool = False) -> int:
        """Starts ARGV in a PTY on the node (CWD relative to the node's folder); its remote pid."""
        sid = sid or f"s{next(self._ids)}"
        fut = asyncio.get_running_loop().create_future()
        self._waiting[("spawn", sid)] = fut
        self.handlers[sid] = handler
        self._send({"op": "spawn", "sid": sid, "argv": argv, "cwd": cwd, "env": env, "cols": cols, "rows": rows,
                    "relay": relay})
        try:
            msg = await asyncio.wait_for(fut, HELLO_TIMEOUT)
        except BaseException:
            self.handlers.pop(sid, None)
            raise
        handler.sid = sid
        return int(msg["pid"])

    def input(self, sid: str, data: bytes) -> None:
        self._send({"op": "input", "sid": sid, "data": pack(data)})

    def resize(self, sid: str, cols: int, rows: int) -> None:
        self._send({"op": "resize", "sid": sid, "cols": cols, "rows": rows})

    def signal(self, sid: str, sig: int) -> None:
        self._send({"op": "signal", "sid": sid, "sig": int(sig)})

    async def close(self) -> None:
        if self.proc is None:
            return
        if self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.closed.wait(), 10)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.closed.wait()
