"""Relayed gt/bd on the town's side of a node link: each request runs once (docs/nodes.md, "Faults").

A polecat's `gt`/`bd` on a node reaches the town through the node channel (nodes/relay_client.py, the
node daemon's relay): the node sends `exec{sid,rid,argv,cwd}` and waits for `exec-result{rid,...}`. The
town runs it as the agent of the session the request came through (the node names the session; the
town's `runner` decides who that is, nodes/relay.py). Across a cut the node asks again with the same
`rid`: it gets the first run's answer once there is one, and the command never runs twice."""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from gastown_tui.nodes.channel import pack
from gastown_tui.nodes.ssh import NodeError

Result = tuple[int, bytes, bytes]  # (status, stdout, stderr)
KEEP_MAX = 4096  # past this many remembered runs, the oldest finished ones are forgotten...
FORGET_AT_ONCE = 1024  # ...this many at a time (the node asks again only across a cut, soon after)


class LinkExec:
    """The relayed commands one link's node asked for: their runs, by request id, and their answers.

    SESSION_FOR(sid) is the link's handler of that session (None: not one of the link's); WRITE(msg)
    sends a message to the node on the link's current connection (raising NodeError when it is down)."""

    def __init__(self, session_for: Callable[[str], object | None], write: Callable[[dict], None]) -> None:
        self._session_for = session_for
        self._write = write
        # async (session handler, argv, node cwd) -> (status, stdout bytes, stderr bytes): runs a relayed gt/bd
        self.runner: Callable[[object, list[str], str], Awaitable[Result]] | None = None
        self._runs: dict[str, asyncio.Task] = {}  # rid -> the one run of a relayed command

    def requested(self, sid: str, msg: dict) -> None:
        """The node asks (perhaps again) for the relayed command MSG of session SID."""
        rid = str(msg.get("rid"))
        task = self._runs.get(rid)
        if task is not None:  # asked again after a cut: the first run's answer, when it has one
            if task.done():
                self._answer(rid, task.result())
            return
        handler = self._session_for(sid)
        if handler is None or self.runner is None:
            self._answer(rid, (3, b"", b"relay: the town runs no commands for this session\n"))
            return
        task = asyncio.get_running_loop().create_task(self._run(handler, rid, msg))
        self._runs[rid] = task
        if len(self._runs) > KEEP_MAX:  # old answers: the node asks again only across a cut, soon after
            for old in list(self._runs)[:FORGET_AT_ONCE]:
                if self._runs[old].done():
                    del self._runs[old]

    async def _run(self, handler, rid: str, msg: dict) -> Result:
        """A relayed gt/bd: run by the town as the agent of the session the request came through (the
        node names the session; the town decides who that is)."""
        try:
            res = await self.runner(handler, [str(a) for a in msg.get("argv") or []], str(msg.get("cwd") or ""))
        except Exception as exc:  # the relayed command must get an answer whatever went wrong here
            res = (3, b"", f"relay: the town could not run it: {exc}\n".encode())
        self._answer(rid, res)
        return res

    def _answer(self, rid: str, res: Result) -> None:
        status, out, err = res
        try:  # on the current connection even while it resumes (the node asked again on it)
            self._write({"op": "exec-result", "rid": rid, "status": status, "stdout": pack(out), "stderr": pack(err)})
        except NodeError:
            pass  # the link is down: the node asks again on the next connection and gets this answer
