"""`SocketLink`: the app attached to its town's server over the town's socket (docs/protocol.md).

The server owns the agents; this app shows them. Reads and actions are `call`s
(the same `gastown_tui.server.api` functions the in-process link runs); every
agent the server runs is a `RemoteSession`, whose screen is subscribed while a
pane shows it; state, lifecycle and town events come from `watch`. Closing the
link (ctrl+q, a crash, a hang-up) only detaches: the agents keep running.
`stop_town` asks the server to shut down (every agent stops).
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from gastown_tui.client.connection import Connection, Disconnected, RemoteError, reconnect
from gastown_tui.client.first_read import CLIENT_KIND, READ, WATCH, WATCH_TOPICS, FirstRead
from gastown_tui.client.link import OnState, StateEvent
from gastown_tui.client.remote_session import HISTORY_LINES, RemoteSession, style_from_json
from gastown_tui.server.reading import READ_CALLS
from gastown_tui.server import paths
from gastown_tui.sessions.vt import Style

if TYPE_CHECKING:
    from gastown_tui.patrols.activity import PatrolActivity

RECONNECT = 30.0  # seconds a vanished server has to come back before the app says it is gone


class Sessions:
    """The agents' sessions on the server, by address (what the panes look up)."""

    def __init__(self) -> None:
        self.by_agent: dict[str, RemoteSession] = {}

    def get(self, address: str) -> RemoteSession | None:
        return self.by_agent.get(address)

    def sessions(self) -> list[RemoteSession]:
        return list(self.by_agent.values())




def _retrieved(read: asyncio.Future) -> None:
    """(A read nobody took: its failure is not an error to report.)"""
    if not read.cancelled():
        read.exception()


class SocketLink:
    detaches = True  # the server holds the agents: leaving the app leaves them running

    def __init__(self, root: Path, first: FirstRead | None = None) -> None:
        self.root = Path(root)
        self.first = first  # the connection opened (and the town asked for) while the app imported, if any
        self.conn: Connection | None = None
        self._sessions = Sessions()
        self._connected = asyncio.Event()
        self._styles: dict[int, Style] = {}
        self._on_state: OnState = lambda _event: None
        self._town_changed: Callable[[], None] | None = None
        self._shown: set[str] = set()  # agents whose screens some pane of this app shows
        self._subscribe_pending = False
        self._soon: str | None = None  # an agent whose screen is asked for before its pane exists (show_soon)
        self.focused: str | None = None
        self.errors: list[str] = []  # replies to requests nobody waited for that said no (newest last)
        self._town_read: asyncio.Future | None = None  # the town, asked for as the connection opened

    @property
    def sessions(self) -> Sessions | None:
        return self._sessions if self.conn is not None else None

    # -- connecting ------------------------------------------------------------------------------
    async def start(self, on_state: OnState, start_agents: bool) -> None:
        self._on_state = on_state
        first, self.first = self.first, None
        if first is not None:
            if first.ready() or await asyncio.to_thread(first.wait):
                sock = first.taken()
                if sock is not None:
                    await self._connect(None, first, sock)
                    return
            first.close()  # (it failed or is too slow: connect the ordinary way, which says what is wrong)
        await self._connect(Connection.to_town(str(self.root), client=CLIENT_KIND, interactive=True,
                                               on_event=self._event))

    async def _connect(self, opening, first: FirstRead | None = None, sock=None) -> None:
        """Says hello (`opening`), watches the town's events, and takes the server's sessions as they are now.
        With `first`, the hello, the watch and the town's read went out (and came back) while the app
        imported: the connection is taken over with what was read."""
        self._styles = {}  # style ids are per connection
        if first is not None:
            self.conn = await Connection.adopt(sock, server=first.server, next_id=READ + 1, rest=first.rest,
                                               on_event=self._event)
            watching = self.conn.expect(WATCH)
            self._town_read = self.conn.expect(READ)
            self._town_read.add_done_callback(_retrieved)
            self.conn.replay(first.messages)  # (the futures above take their replies; events go to _event)
        else:
            self.conn = await opening
            watching = asyncio.ensure_future(self.conn.request("watch", topics=WATCH_TOPICS))
            # The app reads the town as soon as it is connected: the read goes out now, right behind the watch
            # (the server takes them in order: nothing that happens after the read is missed), so its answer
            # is on its way while this side takes the sessions and draws its first frame.
            self._town_read = asyncio.ensure_future(self.conn.request("call", fn="town.read", args={}))
            self._town_read.add_done_callback(_retrieved)
        reply = await watching
        running = {info["agent"] for info in reply["agents"]}
        for address, session in list(self._sessions.by_agent.items()):
            if address not in running and not session.exited:  # gone while the server was away
                session.exited = True
                self._on_state(StateEvent(address, "", "exited", "server.restart"))
        for info in reply["agents"]:
            session = self._session_started(info["agent"], info.get("pid"))
            session.state = info["state"]
            session.exited = not info.get("alive", True)
            self._on_state(StateEvent(info["agent"], "", "exited" if session.exited else info["state"], "server"))
        self._connected.set()
        if self._shown:
            self._schedule_subscribe()
        if self.focused is not None:
            self.focus(self.focused)

    async def _ready(self) -> Connection:
        await self._connected.wait()
        assert self.conn is not None
        return self.conn

    async def watch_town(self, on_town_changed: Callable[[], None]) -> None:
        """Runs while this app is attached; the town's `town` events call `on_town_changed`. When the server
        goes (an upgrade in place, a restart by the keeper) the link reconnects by itself, takes the
        sessions and screens again and re-reads the town; when none answers within RECONNECT seconds it
        raises (the app's worker handler says so)."""
        self._town_changed = on_town_changed
        while True:
            conn = await self._ready()
            await conn.closed.wait()
            if self.conn is not conn:  # closed by this app (detach)
                return
            self._connected.clear()
            path = paths.socket_path(str(self.root))
            try:
                await self._connect(reconnect(path, timeout=RECONNECT, client=CLIENT_KIND, interactive=True,
                                              on_event=self._event))
            except ConnectionError:
                raise Disconnected(f"the town server went away and did not come back within {RECONNECT:g} s "
                                   "(the agents may still run: `gastown status`, `gastown up`)") from None
            on_town_changed()

    # -- events from the server --------------------------------------------------------------------
    def _event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "style":
            self._styles[event["id"]] = style_from_json(event["style"])
        elif kind == "screen":
            session = self._sessions.get(event["agent"])
            if session is not None:
                session.on_screen(event, self._styles)
        elif kind == "state":
            session = self._sessions.get(event["agent"]) or self._session_started(event["agent"], None)
            session.state = event["new"]
            self._on_state(StateEvent(event["agent"], event["old"], event["new"], event.get("rule", ""),
                                      event.get("at")))
        elif kind == "lifecycle":
            address = event["address"]
            if event["what"] == "started":
                self._session_started(address, event.get("pid"))
                self._on_state(StateEvent(address, "", "starting", "session.start", event.get("at")))
            elif event["what"] == "exited":
                session = self._sessions.get(address)
                if session is not None:
                    session.exited, session.exit_status = True, event.get("exit_status")
                self._on_state(StateEvent(address, "", "exited", "process.exit", event.get("at"),
                                          event.get("exit_status")))
        elif kind == "town":
            if event.get("why") not in READ_CALLS:
                self._town_read = None  # the town changed: a read asked for before may not show it
                if self._town_changed is not None:
                    self._town_changed()

    def _session_started(self, address: str, pid: int | None) -> RemoteSession:
        old = self._sessions.get(address)
        if old is not None and old.pid == pid and not old.exited:
            return old
        session = RemoteSession(address, self._send, self._may_resize, self._show, pid=pid,
                                session_id=f"{address}#{pid}", history=self._history)
        self._sessions.by_agent[address] = session
        if address in self._shown:
            self._schedule_subscribe(force=True)  # a new session: its screen again, in full
        return session

    # -- screens, keys and size ---------------------------------------------------------------------
    def _send(self, cmd: str, params: dict[str, Any]) -> None:
        """A request whose outcome only matters when it fails (kept in `errors`)."""
        if self.conn is None or self.conn.closed.is_set():
            return
        task = asyncio.get_running_loop().create_task(self.conn.request(cmd, **params))
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, (RemoteError, Disconnected)):
            self.errors = (self.errors + [str(exc)])[-20:]

    async def _history(self, agent: str) -> list[str]:
        conn = await self._ready()
        page = await conn.request("history", agent=agent, start=-HISTORY_LINES, count=HISTORY_LINES)
        return page["lines"]

    def _may_resize(self, agent: str) -> bool:
        return agent == self.focused

    def show_soon(self, address: str) -> None:
        """Asks for `address`'s screen before its pane exists (the app's first frame): the rows come in while
        the Town screen is being made, and the pane draws them as it appears. Dropped as soon as a pane
        starts or stops showing an agent (then only the panes' agents are asked for)."""
        self._soon = address
        self._schedule_subscribe()

    def _show(self, agent: str, on: bool) -> None:
        self._soon = None
        if on:
            self._shown.add(agent)
        else:
            self._shown.discard(agent)
        self._schedule_subscribe()

    def _schedule_subscribe(self, force: bool = False) -> None:
        if force and self.conn is not None:
            self._send("subscribe", {"agents": []})  # then the set again: every screen goes out in full
        if not self._subscribe_pending:
            self._subscribe_pending = True
            asyncio.get_running_loop().call_soon(self._subscribe)

    def _subscribe(self) -> None:
        self._subscribe_pending = False
        self._send("subscribe", {"agents": sorted(self._shown | ({self._soon} if self._soon else set()))})

    def focus(self, address: str | None) -> None:
        self.focused = address
        if self.conn is not None and (address is None or self._sessions.get(address) is not None):
            self._send("focus", {"agent": address})

    # -- reads, actions, lifecycle ------------------------------------------------------------------
    async def call(self, name: str, **args: Any) -> Any:
        conn = await self._ready()
        try:
            if name == "town.read" and not args and self._town_read is not None:
                read, self._town_read = self._town_read, None  # the read that went out as the link connected
                return await read
            return await conn.request("call", fn=name, args=args)
        except RemoteError as exc:
            raise RuntimeError(str(exc)) from None

    async def patrols(self) -> list[PatrolActivity]:
        """Every patrol's activity, as the server's runner sees it (for the patrol roles' panes)."""
        from gastown_tui.patrols.activity import PatrolActivity  # deferred: once a patrol's pane is shown

        conn = await self._ready()
        reply = await conn.request("patrols")
        return [PatrolActivity.from_dict(p) for p in reply.get("patrols") or ()]

    async def lifecycle(self, what: str, address: str) -> str:
        conn = await self._ready()
        current = self._sessions.get(address)
        if what not in ("start", "stop", "restart"):
            raise ValueError(f"unknown lifecycle action {what!r}")
        if what == "start" and current is not None and current.alive:
            return f"{address} is already running"
        if what in ("stop", "restart") and current is not None and current.alive:
            await conn.request("stop", agent=address)
        if what in ("start", "restart"):
            # deferred on purpose: the town's settings and presets load only when an agent is started from here
            from gastown_tui.client.in_process import spec_for

            spec = await asyncio.to_thread(spec_for, self.root, address)
            await conn.request("spawn", agent=address, preset=str(spec.preset), cwd=str(spec.cwd),
                               env={k: str(v) for k, v in spec.env.items()})
        return f"{address}: {what} done"

    async def close(self) -> None:
        """Detaches: the server and its agents keep running."""
        conn, self.conn = self.conn, None
        if conn is not None:
            await conn.close()

    async def stop_town(self) -> None:
        conn = await self._ready()
        try:
            await conn.request("shutdown", agents=True)
        except Disconnected:
            pass  # it went while answering: stopped all the same

