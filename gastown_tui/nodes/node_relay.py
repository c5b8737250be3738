"""The node daemon's side of relayed gt/bd (docs/nodes.md): a polecat on a node runs `gt` and `bd` as it
would in the town, and they reach the town through the node channel.

A session started with `relay` gets a socket of its own (`open`: whatever connects to it speaks for that
session's agent only) and `<dir>/bin/gt` and `bd` first on its PATH (`write_launchers`: the relay client,
nodes/relay_client.py, run by the daemon's python). Each request becomes `exec{sid,rid,argv,cwd}` to the
town; it waits in the daemon for a town connection, is sent again to each new one the session attaches
to (`resend_waiting`) until answered (`exec_result`: the first answer counts), or gives up after
RELAY_TIMEOUT."""
from __future__ import annotations

import asyncio
import itertools
import sys
from pathlib import Path
from typing import Callable

from gastown_tui.nodes.channel import BadRequest, decode, encode, pack
from gastown_tui.nodes.node_conn import Conn
from gastown_tui.nodes.serve import short_socket

RELAY_TIMEOUT = 600.0


class NodeRelay:
    """The relay sockets of the daemon's sessions and the requests waiting for the town's answer.

    SEND_TO_TOWN(msg) sends MSG to the newest town connection, if there is one."""

    def __init__(self, root: Path, boot: str, send_to_town: Callable[[dict], None]) -> None:
        self.root = root
        self.boot = boot  # the daemon's boot id: request ids stay unique across its restarts
        self.send_to_town = send_to_town
        self.servers: dict[str, asyncio.AbstractServer] = {}  # sid -> its relay socket's server
        self._pending: dict[str, tuple[str, dict, asyncio.Future]] = {}  # rid -> (sid, exec msg, answer)
        self._rids = itertools.count(1)

    @property
    def waiting(self) -> bool:
        """Whether a relayed command still waits for the town's answer."""
        return bool(self._pending)

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

    async def open(self, sid: str) -> Path:
        """The session's own socket: whatever connects to it speaks for that session's agent only."""
        rundir = self.root / "run"
        rundir.mkdir(mode=0o700, exist_ok=True)
        path = short_socket(rundir / f"{sid}.sock")
        if path.exists():
            path.unlink()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                line = await reader.readline()
                req = decode(line.strip() or b"{}")
                argv = req.get("argv")
                if not isinstance(argv, list) or not argv or argv[0] not in ("gt", "bd"):
                    raise BadRequest("only gt and bd commands are relayed")
                rid = f"{self.boot}-r{next(self._rids)}"
                fut = asyncio.get_running_loop().create_future()
                msg = {"ev": "exec", "sid": sid, "rid": rid, "argv": [str(a) for a in argv],
                       "cwd": str(req.get("cwd") or "")}
                self._pending[rid] = (sid, msg, fut)
                self.send_to_town(msg)  # no town now: sent to the next one that attaches
                try:
                    res = await asyncio.wait_for(fut, RELAY_TIMEOUT)
                finally:
                    self._pending.pop(rid, None)
            except (BadRequest, asyncio.TimeoutError) as exc:
                res = {"status": 3, "stdout": "", "stderr": pack(f"relay: {exc or 'no answer from the town'}\n".encode())}
            writer.write(encode({k: res.get(k) for k in ("status", "stdout", "stderr")}))
            try:
                await writer.drain()
            except ConnectionError:
                pass
            finally:
                writer.close()

        self.servers[sid] = await asyncio.start_unix_server(handle, path=str(path))
        return path

    def close(self, sid: str) -> None:
        """The session ended: its relay socket closes."""
        server = self.servers.pop(sid, None)
        if server is not None:
            server.close()

    def exec_result(self, msg: dict) -> None:
        """The town's answer to a relayed command."""
        entry = self._pending.get(str(msg.get("rid")))
        if entry is None or entry[2].done():
            return  # answered already (a town may answer a resent request twice): the first answer counts
        entry[2].set_result(msg)

    def resend_waiting(self, conn: Conn) -> None:
        """The relayed commands still waiting for an answer, again to CONN (a town connection that just
        attached), for the sessions it attached."""
        for sid, msg, fut in list(self._pending.values()):
            if not fut.done() and sid in conn.attached:
                conn.send(msg)
