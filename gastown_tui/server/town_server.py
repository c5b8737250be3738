"""The town server: a TownRuntime (sessions + patrols) plus the Unix-socket listener its clients use.

    server = TownServer(runtime)
    await server.start()        # socket up (0600 in a 0700 folder), peers checked by uid
    ...                         # run the factory (demo/run.py) until server.stop_event is set
    await server.stop()

Protocol: docs/protocol.md. One `Client` per connection; requests that are quick and must keep their order
(hello, input, focus, resize, subscribe, watch) run in the connection's reading loop, slow ones (exec,
call, history, status) in a task each, replies carrying the request's id. No client input can end the
server: every request's failure is one error reply, every connection's failure closes that connection.
The pieces: client_conn.py (one connection: framing, back-pressure), town_cmds.py (hello, status, exec,
call, watch, patrols, shutdown), session_cmds.py (subscribe, input, focus, resize, history, spawn, stop,
size claims), fail.py (a request's refusal). TownServer holds the state and delegates its `cmd_*` to them.
No Textual here.
"""
from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from gastown_tui.errors import UserError
from gastown_tui.server import paths, session_cmds, town_cmds, wire
from gastown_tui.server.client_conn import HARD_CAP, READ_CHUNK, Client, close_soon, read_loop
from gastown_tui.server.exec import ExecRunner, install
from gastown_tui.server.fail import Fail
from gastown_tui.server.identify import peer_credentials
from gastown_tui.server.screens import AgentScreen
from gastown_tui.server.session_cmds import SCREEN_CLIENTS
from gastown_tui.server.town_cmds import CAPABILITIES, TOPICS

__all__ = ["CAPABILITIES", "EXEC_BUSY_LIMIT", "HARD_CAP", "READ_CHUNK", "SCREEN_CLIENTS", "TOPICS", "Client", "Fail",
           "TownServer"]

EXEC_BUSY_LIMIT = 10.0  # seconds one command may hold the exec thread before new callers run their own


class TownServer:
    def __init__(self, runtime, *, log: Callable[[str], None] = print) -> None:
        self.runtime = runtime
        self.town = runtime.town
        self.log = log
        self.socket_path = paths.socket_path(str(self.town.root))
        self.clients: dict[str, Client] = {}
        self.screens: dict[str, AgentScreen] = {}
        self.size_claims: dict[str, str] = {}  # agent -> client id allowed to resize it
        self.stop_event = asyncio.Event()
        self.started_at = time.time()
        self.exec = ExecRunner()
        self.exec_busy_limit = float(os.environ.get("GASTOWN_EXEC_BUSY_LIMIT") or EXEC_BUSY_LIMIT)
        self._calls = ThreadPoolExecutor(max_workers=1, thread_name_prefix="call")
        self._server: asyncio.AbstractServer | None = None
        self._count = 0
        self._history: dict[str, tuple[int, list[str]]] = {}
        self.identities: dict = {}  # identify.agent_of's memory of callers' ancestors
        self._events_sig = None
        self._poll: asyncio.Task | None = None

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        install()
        folder = os.path.dirname(self.socket_path)
        paths.private_dir(folder)
        try:
            os.unlink(self.socket_path)  # we hold the town's lock: any socket file here is stale
        except FileNotFoundError:
            pass
        old_umask = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._handle, path=self.socket_path, limit=wire.MAX_LINE)
        finally:
            os.umask(old_umask)
        os.chmod(self.socket_path, 0o600)
        await self.exec.check()
        self.runtime.sessions.add_listener(self._on_session_event)
        self.runtime.runner.subscribe(self._on_patrol_record)
        self._poll = asyncio.get_running_loop().create_task(self._poll_events(), name="server-events-poll")
        self.log(f"{time.strftime('%H:%M:%S')} server             listening on {self.socket_path} (pid {os.getpid()})")

    async def stop(self) -> None:
        if self._poll:
            self._poll.cancel()
        if self._server is not None:
            self._server.close()
        for c in list(self.clients.values()):
            self._drop(c)
        for s in self.screens.values():
            s.close()
        self.screens.clear()
        try:
            os.unlink(self.socket_path)
        except FileNotFoundError:
            pass
        self.exec.close()
        self._calls.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ connections
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._count += 1
        c = Client(self, reader, writer, self._count)
        try:
            c.pid, c.uid, _ = peer_credentials(writer.get_extra_info("socket"))
        except OSError:
            c.uid = -1
        if c.uid != os.getuid():
            self.log(f"refused a connection from uid {c.uid} (pid {c.pid}): this server serves uid {os.getuid()}")
            c.send({"ok": False, "code": "wrong-user",
                    "error": f"uid {c.uid} may not use this town's server (it serves uid {os.getuid()})"})
            await close_soon(c)
            return
        self.clients[c.client_id] = c
        try:
            await read_loop(c, self._request)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # the server is stopping (asyncio logs a cancelled connection task as an error)
        except Exception as exc:  # a bug in one connection's handling closes that connection, not the server
            self.log(f"client {c.client_id}: {type(exc).__name__}: {exc}")
        finally:
            self._drop(c)

    def _drop(self, c: Client) -> None:
        c.close()
        self.clients.pop(c.client_id, None)
        for agent in list(c.subscribed):
            session_cmds.unsubscribe(self, c, agent)
        if c.sender:
            c.sender.close()
        for t in list(c.tasks):
            if t.get_name().startswith("exec"):
                continue  # a command already running finishes (its writes must not be cut half-way)
            t.cancel()

    # ------------------------------------------------------------------ requests
    INLINE = {"hello", "input", "focus", "resize", "subscribe", "watch", "ping"}

    async def _request(self, c: Client, msg: dict) -> None:
        rid = msg.get("id")
        cmd = msg.get("cmd")
        if not isinstance(cmd, str):
            c.send({"id": rid, "ok": False, "code": "bad-request", "error": "no 'cmd' string in the request"})
            return
        if not c.hello and cmd == "exec" and isinstance(msg.get("hello"), dict):  # the thin client's one line
            try:
                await town_cmds.hello(self, c, msg["hello"])
            except Fail as exc:
                c.send({"id": rid, "ok": False, "code": exc.code, "error": str(exc)})
                await close_soon(c)
                return
        if not c.hello and cmd != "hello":
            c.send({"id": rid, "ok": False, "code": "hello-first", "error": f"send hello before {cmd!r}"})
            return
        handler = getattr(self, "cmd_" + cmd.replace(".", "_"), None) if cmd.isidentifier() else None
        if handler is None:
            known = ", ".join(sorted(n[4:] for n in dir(self) if n.startswith("cmd_")))
            c.send({"id": rid, "ok": False, "code": "unknown-command",
                    "error": f"unknown command {cmd!r} (known: {known})"})
            return
        if cmd in self.INLINE:
            await self._run(c, rid, handler, msg)
        else:
            task = asyncio.get_running_loop().create_task(self._run(c, rid, handler, msg), name=f"{cmd}-{c.client_id}")
            c.tasks.add(task)
            task.add_done_callback(c.tasks.discard)

    async def _run(self, c: Client, rid, handler, msg: dict) -> None:
        try:
            data = await handler(c, msg)
        except Fail as exc:
            c.send({"id": rid, "ok": False, "code": exc.code, "error": str(exc)})
            if exc.code == "version-mismatch":
                await close_soon(c)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            code = "failed" if isinstance(exc, UserError) else "internal"
            if code == "internal":
                self.log(f"{msg.get('cmd')} from {c.client_id}: {type(exc).__name__}: {exc}")
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            c.send({"id": rid, "ok": False, "code": code, "error": text})
            return
        c.send({"id": rid, "ok": True, "data": data if data is not None else {}})

    # -- events for watchers ---------------------------------------------------------------------
    def _broadcast(self, topic: str, event: dict) -> None:
        for c in list(self.clients.values()):
            if topic in c.topics:
                c.send(event)

    def _on_session_event(self, event) -> None:
        kind = type(event).__name__
        if kind == "StateChange":
            self._broadcast("state", {"event": "state", "agent": event.agent, "old": str(event.old.value),
                                      "new": str(event.new.value), "rule": event.rule, "detail": event.detail,
                                      "at": event.at})
        elif kind in ("SessionStarted", "SessionExited"):
            what = "started" if kind == "SessionStarted" else "exited"
            extra = {"pid": event.pid} if what == "started" else {"exit_status": event.exit_status}
            self._broadcast("lifecycle", {"event": "lifecycle", "what": what, "address": event.agent, **extra,
                                          "at": event.at})
            screen = self.screens.get(event.agent)
            session = self.runtime.sessions.get(event.agent)
            if screen is not None and session is not None:
                if session is not screen.session:
                    screen.bind(session)
                else:
                    screen.render(full=False)  # exited: the flag goes out
        elif kind in ("NudgeDelivered", "NudgeFailed"):
            payload = {k: v for k, v in dataclasses.asdict(event).items() if k != "extra"}
            self._broadcast("notice", {"event": "notice", "kind": kind, **payload})

    def _on_patrol_record(self, record) -> None:
        if record.error or (record.report and record.report.did):
            self._broadcast("town", {"event": "town", "why": record.patrol})

    async def _poll_events(self) -> None:
        path = self.town.events_path
        while True:
            await asyncio.sleep(1.0)
            try:
                st = os.stat(path)
                sig = (st.st_mtime_ns, st.st_size)
            except OSError:
                sig = None
            if sig != self._events_sig:
                if self._events_sig is not None:
                    self._broadcast("town", {"event": "town", "why": "events"})
                self._events_sig = sig

    # -- commands: town_cmds.py (hello, status, exec, call, watch, patrols, shutdown) ---------------
    async def cmd_hello(self, c: Client, msg: dict):
        return await town_cmds.hello(self, c, msg)

    async def cmd_ping(self, c: Client, msg: dict):
        return await town_cmds.ping(self, c, msg)

    async def cmd_patrols(self, c: Client, msg: dict):
        return await town_cmds.patrols(self, c, msg)

    async def cmd_status(self, c: Client, msg: dict):
        return await town_cmds.status(self, c, msg)

    async def cmd_exec(self, c: Client, msg: dict):
        return await town_cmds.exec_(self, c, msg)

    async def cmd_call(self, c: Client, msg: dict):
        return await town_cmds.call(self, c, msg)

    async def cmd_watch(self, c: Client, msg: dict):
        return await town_cmds.watch(self, c, msg)

    async def cmd_shutdown(self, c: Client, msg: dict):
        return await town_cmds.shutdown(self, c, msg)

    # -- commands: session_cmds.py (screens, input, size, agents) ----------------------------------
    async def cmd_subscribe(self, c: Client, msg: dict):
        return await session_cmds.subscribe(self, c, msg)

    async def cmd_input(self, c: Client, msg: dict):
        return await session_cmds.send_input(self, c, msg)

    async def cmd_focus(self, c: Client, msg: dict):
        return await session_cmds.focus(self, c, msg)

    async def cmd_resize(self, c: Client, msg: dict):
        return await session_cmds.resize(self, c, msg)

    async def cmd_history(self, c: Client, msg: dict):
        return await session_cmds.history(self, c, msg)

    async def cmd_spawn(self, c: Client, msg: dict):
        return await session_cmds.spawn(self, c, msg)

    async def cmd_stop(self, c: Client, msg: dict):
        return await session_cmds.stop(self, c, msg)
