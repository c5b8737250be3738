"""One connection to the town server: the `Client` (its writing, with back-pressure and a hard cap) and
the reading loop that frames its bytes into requests (docs/protocol.md).

The server owns the clients; this module knows only the wire, not the commands.
"""
from __future__ import annotations

import asyncio
import time

from gastown_tui.server import wire
from gastown_tui.server.screens import LOW_WATER, ScreenSender

HARD_CAP = 32 * 1024 * 1024  # bytes waiting for one client before it is cut off (replies/events, not screens)
READ_CHUNK = 256 * 1024


class Client:
    """One connection."""

    def __init__(self, server, reader, writer, number: int) -> None:  # server: the TownServer it belongs to
        self.server = server
        self.reader = reader
        self.writer = writer
        self.client_id = f"c{number}"
        self.pid = self.uid = 0
        self.kind = "?"
        self.interactive = False
        self.hello = False
        self.focus: str | None = None
        self.topics: set[str] = set()
        self.subscribed: set[str] = set()
        self.sender: ScreenSender | None = None
        self.connected_at = time.time()
        self.closed = False
        self.tasks: set[asyncio.Task] = set()
        writer.transport.set_write_buffer_limits(high=LOW_WATER, low=LOW_WATER // 4)  # drain() waits above LOW_WATER

    def send(self, obj: dict) -> None:
        self.send_bytes(wire.encode(obj))

    def send_bytes(self, data: bytes) -> None:
        """Writes DATA as it is (one or more whole messages)."""
        if self.closed:
            return
        try:
            self.writer.write(data)
        except (ConnectionError, RuntimeError):
            self.close()
            return
        if self.writer.transport.get_write_buffer_size() > HARD_CAP:
            self.server.log(f"client {self.client_id} (pid {self.pid}) fell {HARD_CAP >> 20} MiB behind: disconnected")
            self.close()

    async def drained(self) -> None:
        try:
            await self.writer.drain()
        except (ConnectionError, RuntimeError):
            self.close()
            await asyncio.sleep(3600)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.writer.close()
        except (OSError, RuntimeError):  # the transport is already gone (or its loop is): closed either way
            pass

    def info(self) -> dict:
        return {"id": self.client_id, "client": self.kind, "pid": self.pid, "interactive": self.interactive,
                "focus": self.focus, "subscribed": sorted(self.subscribed), "since": self.connected_at}


async def close_soon(c: Client) -> None:
    try:
        await asyncio.wait_for(c.writer.drain(), 2)
    except (asyncio.TimeoutError, OSError, RuntimeError):  # a slow or gone client is closed all the same
        pass
    c.close()


async def read_loop(c: Client, request) -> None:
    """Reads `c`'s lines until it closes, awaiting `request(c, msg)` for each decoded one."""
    splitter = wire.LineSplitter()
    overlong = 0
    while not c.closed:
        data = await c.reader.read(READ_CHUNK)
        if not data:
            return
        for line in splitter.feed(data):
            if line is wire.OVERLONG:
                overlong += 1
                c.send({"ok": False, "code": "bad-request",
                        "error": f"line longer than {wire.MAX_LINE} bytes"
                                 + ("; closing" if overlong > 1 else "")})
                if overlong > 1:
                    await close_soon(c)
                    return
                continue
            try:
                msg = wire.decode(line)
            except wire.BadRequest as exc:
                c.send({"ok": False, "code": "bad-request", "error": str(exc)})
                continue
            await request(c, msg)
            if c.closed:
                return
