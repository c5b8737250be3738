"""The town server: a TownRuntime (sessions + patrols) plus the Unix-socket listener its clients use.

    server = TownServer(runtime)
    await server.start()        # socket up (0600 in a 0700 folder), peers checked by uid
    ...                         # run the factory (demo/run.py) until server.stop_event is set
    await server.stop()

Protocol: docs/protocol.md. One `Client` per connection; requests that are quick and must keep their order
(hello, input, focus, resize, subscribe, watch) run in the connection's reading loop, slow ones (exec,
call, history, status) in a task each, replies carrying the request's id. No client input can end the
server: every request's failure is one error reply, every connection's failure closes that connection.
No Textual here.
"""
from __future__ import annotations

import asyncio
import base64
import dataclasses
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from gastown_tui import __version__
from gastown_tui.server import paths, wire
from gastown_tui.server.exec import NOT_IN_SERVER, Busy, ExecRunner, install
from gastown_tui.server.identify import agent_of, peer_credentials
from gastown_tui.server.screens import ALL, LOW_WATER, AgentScreen, ScreenSender

SCREEN_CLIENTS = ("app", "web", "attach")  # clients that show agents' screens (not gt/bd/node calls)
CAPABILITIES = ["exec", "screens", "input", "size", "call", "history", "events"]
HARD_CAP = 32 * 1024 * 1024  # bytes waiting for one client before it is cut off (replies/events, not screens)
READ_CHUNK = 256 * 1024
TOPICS = {"state", "town", "notice", "lifecycle"}
EXEC_BUSY_LIMIT = 10.0  # seconds one command may hold the exec thread before new callers run their own


class Fail(Exception):
    """A request that cannot be done: one error reply with this code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Client:
    """One connection."""

    def __init__(self, server: "TownServer", reader, writer, number: int) -> None:
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
        if self.closed:
            return
        try:
            self.writer.write(wire.encode(obj))
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
        except Exception:
            pass

    def info(self) -> dict:
        return {"id": self.client_id, "client": self.kind, "pid": self.pid, "interactive": self.interactive,
                "focus": self.focus, "subscribed": sorted(self.subscribed), "since": self.connected_at}


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
            await self._close_soon(c)
            return
        self.clients[c.client_id] = c
        try:
            await self._read_loop(c)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # the server is stopping (asyncio logs a cancelled connection task as an error)
        except Exception as exc:  # a bug in one connection's handling closes that connection, not the server
            self.log(f"client {c.client_id}: {type(exc).__name__}: {exc}")
        finally:
            self._drop(c)

    async def _close_soon(self, c: Client) -> None:
        try:
            await asyncio.wait_for(c.writer.drain(), 2)
        except Exception:
            pass
        c.close()

    async def _read_loop(self, c: Client) -> None:
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
                        await self._close_soon(c)
                        return
                    continue
                try:
                    msg = wire.decode(line)
                except wire.BadRequest as exc:
                    c.send({"ok": False, "code": "bad-request", "error": str(exc)})
                    continue
                await self._request(c, msg)
                if c.closed:
                    return

    def _drop(self, c: Client) -> None:
        c.close()
        self.clients.pop(c.client_id, None)
        for agent in list(c.subscribed):
            self._unsubscribe(c, agent)
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
                await self._close_soon(c)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            from gastown_tui.errors import UserError

            code = "failed" if isinstance(exc, UserError) else "internal"
            if code == "internal":
                self.log(f"{msg.get('cmd')} from {c.client_id}: {type(exc).__name__}: {exc}")
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            c.send({"id": rid, "ok": False, "code": code, "error": text})
            return
        c.send({"id": rid, "ok": True, "data": data if data is not None else {}})

    # -- hello, status ----------------------------------------------------------------------
    async def cmd_hello(self, c: Client, msg: dict):
        proto = msg.get("protocol")
        if proto != wire.PROTOCOL:
            raise Fail("version-mismatch", f"client speaks protocol {proto} (gastown {msg.get('version', '?')}); "
                                           f"this server speaks protocol {wire.PROTOCOL} (gastown {__version__})")
        c.hello = True
        c.kind = str(msg.get("client") or "?")
        c.interactive = bool(msg.get("interactive"))
        return {"protocol": wire.PROTOCOL, "version": __version__, "capabilities": CAPABILITIES,
                "server_pid": os.getpid(), "town": str(self.town.root), "client_id": c.client_id}

    async def cmd_ping(self, c: Client, msg: dict):
        return {"at": time.time()}

    async def cmd_patrols(self, c: Client, msg: dict):
        """What each patrol role's pane shows: the patrol's state, next wake, backoff, last runs, escalations."""
        out = []
        for name in self.runtime.runner.names():
            role, _, rig = name.partition(":")
            out.append(self.runtime.activity.activity(role, rig or None).to_dict())
        return {"patrols": out}

    async def cmd_status(self, c: Client, msg: dict):
        sessions = self.runtime.sessions.sessions()
        agents = [{"address": s.agent, "pid": s.pid, "alive": s.alive, "state": str(getattr(s.state, "value", s.state)),
                   "cols": s.screen.cols, "rows": s.screen.rows, "session_id": s.id,
                   "exit_status": s.exit_status} for s in sessions]
        town = self.town

        def hooks() -> dict:
            from gastown_tui.town.hooks import hooked_record

            out = {}
            for a in agents:
                try:
                    rec = hooked_record(town, a["address"])
                except Exception:
                    rec = None
                out[a["address"]] = rec.get("id") if rec else None
            return out

        found = await asyncio.get_running_loop().run_in_executor(self._calls, hooks)
        for a in agents:
            a["hook"] = found.get(a["address"])
        now = time.time()
        return {"server_pid": os.getpid(), "version": __version__, "protocol": wire.PROTOCOL,
                "town": str(town.root), "socket": self.socket_path, "started_at": self.started_at,
                "uptime": now - self.started_at, "clients": [x.info() for x in self.clients.values()],
                "agents": sorted(agents, key=lambda a: a["address"]), "exec_private_cwd": self.exec.private_cwd,
                "exec_running": {"seconds": round(busy[0], 3), "argv": busy[1]} if (busy := self.exec.busy()) else None,
                "exec_waiting": self.exec.waiting}

    # -- exec ----------------------------------------------------------------------------------
    async def cmd_exec(self, c: Client, msg: dict):
        argv = msg.get("argv")
        cwd = msg.get("cwd")
        env = msg.get("env") or {}
        if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
            raise Fail("bad-request", "exec: 'argv' must be a list of strings")
        if not isinstance(cwd, str) or not os.path.isabs(cwd):
            raise Fail("bad-request", "exec: 'cwd' must be an absolute path")
        if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            raise Fail("bad-request", "exec: 'env' must map strings to strings")
        if not os.path.isdir(cwd):
            raise Fail("bad-request", f"exec: the folder {cwd} does not exist")
        words = argv[1:] if argv[:1] == ["gt"] else argv
        name = words[0] if words and not words[0].startswith("-") else "app"
        if name in NOT_IN_SERVER:
            raise Fail("not-in-server", f"`gastown {name}` runs in its own process")
        if not self.exec.private_cwd:
            raise Fail("not-in-server", "this server cannot give a command its own working folder")
        busy = self.exec.busy()
        if busy is not None and busy[0] > self.exec_busy_limit:  # a long command: do not queue every agent behind it
            raise Fail("not-in-server", f"the server has been running `{' '.join(busy[1][:3])}` for {busy[0]:.0f}s; "
                                        "run this command in your own process")
        env = dict(env)
        agent = agent_of(c.pid, self.runtime.sessions.sessions()) if c.pid else None
        if agent is not None:
            env["GT_AGENT"] = agent
            env["BD_ACTOR"] = agent
        rid = msg.get("id")

        def deliver(stream: int, data: bytes) -> None:
            c.send({"event": "out", "req": rid, "stream": stream, "data": data.decode("utf-8", "replace")})

        tty = msg.get("tty") if isinstance(msg.get("tty"), dict) else None
        tty = {int(k): bool(v) for k, v in (tty or {}).items() if str(k) in ("1", "2")}
        sizes = {}
        for k, v in (msg.get("sizes") or {}).items() if isinstance(msg.get("sizes"), dict) else ():
            if str(k) in ("0", "1", "2") and isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v):
                sizes[int(k)] = (v[0], v[1])
        try:
            code = await self.exec.run(argv, cwd, env, deliver, tty, sizes, give_up_after=self.exec_busy_limit)
        except Busy as busy:
            raise Fail("not-in-server", f"the server has been running `{' '.join(busy.argv[:3])}` for "
                                        f"{busy.seconds:.0f}s; run this command in your own process") from None
        self._broadcast("town", {"event": "town", "why": "exec"})
        return {"exit": code, "agent": agent}

    # -- call ----------------------------------------------------------------------------------
    async def cmd_call(self, c: Client, msg: dict):
        fn = msg.get("fn")
        args = msg.get("args") or {}
        if not isinstance(fn, str) or not isinstance(args, dict):
            raise Fail("bad-request", "call: 'fn' must be a string and 'args' an object")
        from gastown_tui.server import api

        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._calls, lambda: api.dispatch(self.town, fn, args))
        self._broadcast("town", {"event": "town", "why": fn})
        return result

    # -- watching --------------------------------------------------------------------------------
    async def cmd_watch(self, c: Client, msg: dict):
        topics = msg.get("topics", sorted(TOPICS))
        if not isinstance(topics, list) or not set(topics) <= TOPICS:
            raise Fail("bad-request", f"watch: 'topics' must be a list drawn from {sorted(TOPICS)}")
        c.topics = set(topics)
        return {"topics": sorted(c.topics),
                "agents": [{"agent": s.agent, "state": str(getattr(s.state, "value", s.state)), "pid": s.pid,
                            "alive": s.alive} for s in self.runtime.sessions.sessions()]}

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

    # -- screens, input, size --------------------------------------------------------------------
    def _session(self, agent) :
        if not isinstance(agent, str):
            raise Fail("bad-request", "'agent' must be an agent address")
        from gastown_tui.sessions.session import SessionError

        try:
            session = self.runtime.sessions.get(agent)
        except SessionError as exc:
            raise Fail("bad-request", str(exc)) from None
        if session is None:
            raise Fail("no-session", f"{agent} has no session in this town")
        return session

    async def cmd_subscribe(self, c: Client, msg: dict):
        agents = msg.get("agents")
        if not isinstance(agents, list) or not all(isinstance(a, str) for a in agents):
            raise Fail("bad-request", "subscribe: 'agents' must be a list of addresses")
        wanted: dict[str, object] = {}
        missing = []
        for a in agents:
            try:
                s = self._session(a)
            except Fail:
                missing.append(a)
                continue
            wanted[s.agent] = s
        for agent in list(c.subscribed):
            if agent not in wanted:
                self._unsubscribe(c, agent)
        if c.sender is None and wanted:
            c.sender = ScreenSender(c, self.screens)
        for agent, session in wanted.items():
            if agent in c.subscribed:
                continue
            screen = self.screens.get(agent)
            if screen is None:
                screen = self.screens[agent] = AgentScreen(
                    agent, session, focused=lambda a=agent: any(x.focus == a for x in self.clients.values()))
            screen.subscribers.add(c.sender)
            c.subscribed.add(agent)
            c.sender.mark(agent, ALL)
        return {"agents": sorted(c.subscribed), "missing": missing}

    def _unsubscribe(self, c: Client, agent: str) -> None:
        c.subscribed.discard(agent)
        screen = self.screens.get(agent)
        if screen is not None and c.sender is not None:
            screen.subscribers.discard(c.sender)
            c.sender.forget(agent)
            if not screen.subscribers:
                screen.close()
                del self.screens[agent]

    async def cmd_input(self, c: Client, msg: dict):
        session = self._session(msg.get("agent"))
        try:
            data = base64.b64decode(msg.get("data") or "", validate=True)
        except (ValueError, TypeError):
            raise Fail("bad-request", "input: 'data' must be base64") from None
        if not session.alive:
            raise Fail("exited", f"{session.agent} has exited")
        screen = self.screens.get(session.agent)
        if screen is not None:
            screen.typed()
        lock = session._input_lock  # a nudge being typed finishes first; keys never land inside it
        if lock.locked():
            async with lock:
                session.write(data)
        else:
            session.write(data)
        return {"bytes": len(data)}

    async def cmd_focus(self, c: Client, msg: dict):
        agent = msg.get("agent")
        if agent is not None:
            agent = self._session(agent).agent
        c.focus = agent
        if agent is not None and c.interactive:
            self.size_claims[agent] = c.client_id
        return {"focus": agent, "size_claim": bool(agent and self.size_claims.get(agent) == c.client_id)}

    async def cmd_resize(self, c: Client, msg: dict):
        session = self._session(msg.get("agent"))
        cols, rows = msg.get("cols"), msg.get("rows")
        if not (isinstance(cols, int) and isinstance(rows, int) and 1 <= cols <= 1000 and 1 <= rows <= 500):
            raise Fail("bad-request", "resize: 'cols' (1-1000) and 'rows' (1-500) must be integers")
        agent = session.agent
        if not c.interactive or c.focus != agent or self.size_claims.get(agent) != c.client_id:
            raise Fail("size-not-yours", f"{agent}'s size belongs to the interactive client focused on it "
                                         f"({self.size_claims.get(agent) or 'nobody yet'}); "
                                         "this client may only show it")
        if c.kind == "web" and any(o is not c and o.kind in SCREEN_CLIENTS for o in self.clients.values()):
            # a browser (often a phone) never reshapes an agent another screen is showing (herdr #2404)
            raise Fail("size-not-yours", f"a browser resizes {agent} only while it is the town's only screen")
        if (session.screen.cols, session.screen.rows) != (cols, rows):
            session.resize(cols, rows)
            screen = self.screens.get(agent)
            if screen is not None:
                screen.resized()
        return {"cols": session.screen.cols, "rows": session.screen.rows}

    async def cmd_history(self, c: Client, msg: dict):
        session = self._session(msg.get("agent"))
        start, count = msg.get("start", 0), msg.get("count", 200)
        if not isinstance(start, int) or not isinstance(count, int) or count < 0:
            raise Fail("bad-request", "history: 'start' and 'count' must be integers (count >= 0)")
        cached = self._history.get(session.id)
        if cached is None or cached[0] != session.output_seq:
            lines = session.screen.history_text().split("\n")
            cached = self._history[session.id] = (session.output_seq, lines)
        lines = cached[1]
        total = len(lines)
        if start < 0:
            start = max(0, total + start)
        count = min(count, 5000)
        return {"agent": session.agent, "total": total, "start": start, "lines": lines[start:start + count]}

    # -- agents ----------------------------------------------------------------------------------
    async def cmd_spawn(self, c: Client, msg: dict):
        """Starts a session for an agent: {agent, preset?, argv?, cwd?, env?, cols?, rows?, scrollback_lines?}."""
        from gastown_tui.sessions.session import SessionError, SessionSpec

        agent, argv = msg.get("agent"), msg.get("argv")
        cwd = msg.get("cwd") or str(self.town.root)
        if not isinstance(agent, str):
            raise Fail("bad-request", "spawn: 'agent' must be an agent address")
        if argv is not None and (not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv)):
            raise Fail("bad-request", "spawn: 'argv' must be a non-empty list of strings")
        if not isinstance(cwd, str) or not os.path.isdir(cwd):
            raise Fail("bad-request", f"spawn: the folder {cwd!r} does not exist")
        env = msg.get("env") or {}
        if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            raise Fail("bad-request", "spawn: 'env' must map strings to strings")
        cols, rows = msg.get("cols", 120), msg.get("rows", 40)
        if not (isinstance(cols, int) and isinstance(rows, int) and 1 <= cols <= 1000 and 1 <= rows <= 500):
            raise Fail("bad-request", "spawn: 'cols' (1-1000) and 'rows' (1-500) must be integers")
        scrollback = msg.get("scrollback_lines", 10_000)
        if not isinstance(scrollback, int) or not 0 <= scrollback <= 1_000_000:
            raise Fail("bad-request", "spawn: 'scrollback_lines' must be an integer (0-1000000)")
        spec = SessionSpec(agent=agent, preset=str(msg.get("preset") or "shell"), cwd=Path(cwd), argv=argv,
                           env=env, cols=cols, rows=rows, scrollback_lines=scrollback)
        try:
            session = await self.runtime.sessions.spawn(spec)
        except SessionError as exc:
            raise Fail("failed", str(exc)) from None
        return {"agent": session.agent, "pid": session.pid, "session_id": session.id}

    async def cmd_stop(self, c: Client, msg: dict):
        """Stops an agent's session: {agent}. Returns its exit status."""
        session = self._session(msg.get("agent"))
        status = await self.runtime.sessions.stop(session.agent)
        return {"agent": session.agent, "exit_status": status}

    # -- shutdown --------------------------------------------------------------------------------
    async def cmd_shutdown(self, c: Client, msg: dict):
        self.log(f"{time.strftime('%H:%M:%S')} server             shutdown asked by {c.client_id} (pid {c.pid})")
        asyncio.get_running_loop().call_soon(self.stop_event.set)
        return {"stopping": True, "server_pid": os.getpid()}
