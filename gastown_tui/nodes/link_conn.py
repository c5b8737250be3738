"""One connection of a node link: the `ssh node ... node serve` process whose stdio carries the node channel
(nodes/channel.py) for every session placed there.

`LinkConn.start` runs ssh; the connection then writes messages, reads the node's lines into messages for its
link (skipping, and reporting, over-long or malformed ones), keeps the tail of ssh's stderr, remembers when
it last heard the node, and says why it ended: the reason it was killed with, ssh's own refusal explained
(status 255: an unknown host key, a refused login), or the daemon's exit status. The link (nodes/link.py)
holds the current connection and opens the next one after a drop. Reading never blocks the loop."""
from __future__ import annotations

import asyncio
import time
from typing import Callable

from gastown_tui.nodes.channel import OVERLONG, BadRequest, LineSplitter, decode, encode
from gastown_tui.nodes.registry import Node
from gastown_tui.nodes.ssh import NodeError, explain

STDERR_TAIL = 8192  # bytes of ssh's stderr kept to explain how it ended


class LinkDown(NodeError):
    """The request could not be answered because the link dropped (it may be sent again once it is up)."""


class LinkConn:
    """One ssh process, its reader and why it ended."""

    def __init__(self, node: Node, proc: asyncio.subprocess.Process) -> None:
        self.node = node
        self.proc = proc
        self.stderr = bytearray()
        self.reader: asyncio.Task | None = None
        self.stderr_task: asyncio.Task | None = None
        self.ended = asyncio.Event()
        self.reason: str | None = None  # why it was killed (else worked out from ssh's status as it ends)
        self.last_heard = time.monotonic()  # when the node last sent anything on it

    @classmethod
    async def start(cls, node: Node, argv: list[str], on_message: Callable[["LinkConn", dict], None],
                    on_error: Callable[[str], None], on_end: Callable[["LinkConn", str], None]) -> "LinkConn":
        """Runs ARGV (ssh) and reads it: each message from the node goes to `on_message(conn, msg)`, a line
        that is not one to `on_error(text)`, and the end to `on_end(conn, reason)`."""
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        conn = cls(node, proc)
        loop = asyncio.get_running_loop()
        conn.reader = loop.create_task(conn._read(on_message, on_error, on_end), name=f"node-link-{node.name}")
        conn.stderr_task = loop.create_task(conn._read_stderr())
        return conn

    @property
    def writable(self) -> bool:
        stdin = self.proc.stdin
        return not self.ended.is_set() and stdin is not None and not stdin.is_closing()

    def write(self, msg: dict) -> None:
        """MSG to the node; the caller checks `writable` first (and says why it is not)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(encode(msg))

    def kill(self, reason: str | None = None) -> None:
        """Ends the connection (ssh killed; the node's programs go on). REASON: what its end will say."""
        if reason is not None:
            self.reason = reason
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass

    def close_stdin(self) -> None:
        """The orderly end: the node server sees end of file on its channel."""
        if self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.close()

    async def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        while True:
            chunk = await self.proc.stderr.read(4096)
            if not chunk:
                return
            self.stderr += chunk[-STDERR_TAIL:]
            del self.stderr[:-STDERR_TAIL]

    async def _read(self, on_message: Callable[["LinkConn", dict], None], on_error: Callable[[str], None],
                    on_end: Callable[["LinkConn", str], None]) -> None:
        assert self.proc.stdout is not None
        name = self.node.name
        splitter = LineSplitter()
        try:
            while True:
                data = await self.proc.stdout.read(65536)
                if not data:
                    break
                self.last_heard = time.monotonic()
                for line in splitter.feed(data):
                    if line is OVERLONG:
                        on_error("an over-long line from the node was skipped")
                        continue
                    try:
                        msg = decode(line)
                    except BadRequest as exc:
                        on_error(f"bad line from the node: {exc}")
                        continue
                    on_message(self, msg)
        except asyncio.CancelledError:  # the town's loop is ending: its ssh goes with it (the node's programs go on)
            self.kill()
            self.ended.set()
            raise
        except Exception as exc:  # a bug while dispatching: this connection is dropped, the link reconnects
            on_error(f"reading node {name}'s channel failed: {exc!r}")
            self.kill(self.reason or f"node {name}: the town failed reading its channel ({exc!r})")
        # The connection ended (EOF, or killed above).
        status = await self.proc.wait()
        try:
            await asyncio.wait_for(self.stderr_task, 5)
        except asyncio.TimeoutError:
            pass
        text = self.stderr.decode(errors="replace")
        reason = self.reason or (explain(self.node, text) if status == 255 else
                                 f"node {name}: `gastown node serve` ended with status {status}: "
                                 f"{text.strip()[-300:]}")
        self.ended.set()
        on_end(self, reason)
