"""A connection to a town's server (docs/protocol.md), for the app, `gastown status/down/attach` and tests.

    conn = await Connection.open(socket_path, client="app", interactive=True)
    info = conn.server                      # the hello reply: version, capabilities, server_pid, client_id
    status = await conn.request("status")   # the reply's data; RemoteError(code, message) if not ok
    await conn.request("watch", topics=["state", "lifecycle"])
    event = await conn.events.get()         # {"event": "state", ...}: every event, in arrival order
    await conn.close()

Events go to `on_event(event)` when given (called on the loop, in order), else to the `events` queue.
`request` may be called from many tasks at once: replies are matched by id. When the server goes away,
pending requests fail with `Disconnected` and `closed` is set; `reconnect(...)` opens a new connection
once the server answers again (an upgrade or a restart by the keeper). No Textual, no domain imports.
"""
from __future__ import annotations

import asyncio
import itertools
import os
from typing import Any, Callable

from gastown_tui import __version__
from gastown_tui.server import paths, wire

PROTOCOL = 1
MAX_LINE = 4 * 1024 * 1024


class RemoteError(Exception):
    """The server answered ok:false."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Disconnected(ConnectionError):
    """The connection ended before the reply came."""


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 on_event: Callable[[dict], Any] | None = None) -> None:
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}
        self.on_event = on_event
        self.events: asyncio.Queue = asyncio.Queue()
        self.server: dict = {}
        self.closed = asyncio.Event()
        self.errors: list[dict] = []  # error lines without an id (bad input the server refused)
        self._task = asyncio.get_running_loop().create_task(self._read(), name="gastown-connection")

    @classmethod
    async def open(cls, path: str, *, client: str = "app", interactive: bool = False,
                   on_event: Callable[[dict], Any] | None = None, timeout: float = 5.0) -> "Connection":
        """Connects and says hello; RemoteError('version-mismatch', ...) names both versions."""
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(path, limit=MAX_LINE + 1), timeout)
        conn = cls(reader, writer, on_event)
        try:
            conn.server = await asyncio.wait_for(
                conn.request("hello", protocol=PROTOCOL, version=__version__, client=client,
                             interactive=interactive, pid=os.getpid()), timeout)
        except BaseException:
            await conn.close()
            raise
        return conn

    @classmethod
    async def to_town(cls, town_root: str, **kw) -> "Connection":
        return await cls.open(paths.socket_path(town_root), **kw)

    @classmethod
    async def adopt(cls, sock, *, server: dict, next_id: int, rest: bytes = b"",
                    on_event: Callable[[dict], Any] | None = None) -> "Connection":
        """Takes over a connected socket whose hello was answered elsewhere (`client/first_read.py`): `server`
        is that hello's reply, `next_id` the first request id not yet used, `rest` bytes already read off the
        socket (they come before anything read from now on). Requests sent before are answered through
        `expect`; lines already read are handed on with `replay`."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_LINE + 1, loop=loop)
        if rest:
            reader.feed_data(rest)
        protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
        transport, _ = await loop.create_unix_connection(lambda: protocol, sock=sock)
        conn = cls(reader, asyncio.StreamWriter(transport, protocol, reader, loop), on_event)
        conn.server = server
        conn._ids = itertools.count(next_id)
        return conn

    def expect(self, rid: int) -> asyncio.Future:
        """The reply to request `rid`, sent before this connection took the socket over."""
        fut = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        fut.add_done_callback(lambda _f: self._pending.pop(rid, None))
        return fut

    def replay(self, messages: list[dict]) -> None:
        """Lines read off the socket before this connection took it over, in the order they came."""
        for msg in messages:
            self._take(msg)

    async def request(self, cmd: str, **params) -> Any:
        """Sends {id, cmd, **params}; returns the reply's data, or raises RemoteError / Disconnected."""
        if self.closed.is_set():
            raise Disconnected("the connection to the town server is closed")
        rid = next(self._ids)
        fut = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        self._writer.write(wire.encode({"id": rid, "cmd": cmd, **params}))
        try:
            return await fut
        finally:
            self._pending.pop(rid, None)

    async def _read(self) -> None:
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    break
                try:
                    msg = wire.decode(line)
                except wire.BadRequest:
                    continue
                self._take(msg)
        except (ConnectionError, ValueError, asyncio.IncompleteReadError):
            pass
        finally:
            self.closed.set()
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(Disconnected("the town server closed the connection"))

    def _take(self, msg: dict) -> None:
        """One line from the server: an event, or the reply to a pending request."""
        if "event" in msg:
            if self.on_event is not None:
                self.on_event(msg)
            else:
                self.events.put_nowait(msg)
            return
        fut = self._pending.get(msg.get("id")) if msg.get("id") is not None else None
        if fut is None:
            self.errors.append(msg)
            if msg.get("code") == "wrong-user":
                for f in list(self._pending.values()):
                    if not f.done():
                        f.set_exception(RemoteError("wrong-user", msg.get("error", "")))
            return
        if fut.done():
            return
        if msg.get("ok"):
            fut.set_result(msg.get("data"))
        else:
            fut.set_exception(RemoteError(msg.get("code", "error"), msg.get("error", "")))

    async def close(self) -> None:
        self._task.cancel()
        try:
            self._writer.close()
            await self._writer.wait_closed()
        except (ConnectionError, OSError, RuntimeError):
            pass
        self.closed.set()


async def reconnect(path: str, *, timeout: float = 30.0, interval: float = 0.1, **kw) -> Connection:
    """A new Connection as soon as the server at PATH answers (it restarts or upgrades); ConnectionError
    after TIMEOUT seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Exception | None = None
    while loop.time() < deadline:
        try:
            return await Connection.open(path, **kw)
        except (OSError, asyncio.TimeoutError, Disconnected) as exc:
            last = exc
        await asyncio.sleep(interval)
    raise ConnectionError(f"no town server at {path} after {timeout:g}s ({last})")
