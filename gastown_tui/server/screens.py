"""Agent screens streamed to clients as changed rows (docs/protocol.md, "Screens").

One `AgentScreen` per agent some client shows: it renders the session's VT screen at most once per
frame after output -- FRAME_DELAY (30 Hz) for a pane nobody types into, FOCUSED_FRAME (60 Hz) for a focused
one, and at once (ECHO_DELAY) for a moment after a client sent the agent keys, so the echo never waits for a
frame (pyghostty's dirty flags are consume-once, so the server is the screen's only renderer) -- keeps the
latest rows, and marks them dirty for every subscribed client. A client's
`ScreenSender` keeps, per agent, only the set of dirty row numbers, not a queue of frames: it writes while
the socket's buffer is under LOW_WATER and, when the client is slow or stopped, the sets merely fill
(bounded by rows x agents shown); on resume the client gets the latest rows. The agent the client focuses
is written before its other dirty agents (an echo never queues behind other panes' rows). Styles are
interned per client.
"""
from __future__ import annotations

import asyncio
import dataclasses
import time

FRAME_DELAY = 1 / 30  # output -> frame for a shown pane: the app draws unfocused panes at 10 Hz, focused at 30
FOCUSED_FRAME = 1 / 60  # a pane some client focuses, while nobody types into it
ECHO_DELAY = 0.0005  # output within ECHO_WINDOW of keys sent to the agent: its echo goes out at once
ECHO_WINDOW = 1.0  # seconds after the last `input` during which output is rendered at once
LOW_WATER = 64 * 1024  # write screens only while less than this waits in the socket's buffer
ALL = None  # a dirty set meaning "every row" (a full frame)


def style_json(style) -> dict:
    out = {}
    for f in dataclasses.fields(style):
        value = getattr(style, f.name)
        if value != f.default:
            out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def modes_json(modes) -> dict:
    return dataclasses.asdict(modes)


class AgentScreen:
    """The server's view of one agent's screen, shared by every client that shows it."""

    def __init__(self, agent: str, session, focused=lambda: False) -> None:
        self.agent = agent
        self.focused = focused  # () -> whether some client focuses this agent
        self.session = None
        self.rows: dict = {}
        self.cursor = None
        self.seq = 0
        self.subscribers: set = set()
        self._handle: asyncio.TimerHandle | None = None
        self.hot_until = 0.0  # monotonic time until which output is rendered at once (keys were sent)
        self.bind(session)

    def bind(self, session) -> None:
        """Follow SESSION (a restart gives the agent a new one): everything is sent again in full."""
        if session is self.session:
            return
        if self.session is not None:
            self.session.remove_output_listener(self._on_output)
        self.session = session
        session.add_output_listener(self._on_output)
        self.render(full=True)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self.session is not None:
            self.session.remove_output_listener(self._on_output)

    def typed(self) -> None:
        """A client sent this agent keys: its output goes out at once for a moment (the echo)."""
        self.hot_until = time.monotonic() + ECHO_WINDOW

    def _on_output(self, _session) -> None:
        loop = asyncio.get_running_loop()
        if time.monotonic() < self.hot_until:
            if self._handle is not None:
                if self._handle.when() <= loop.time() + ECHO_DELAY:
                    return
                self._handle.cancel()  # a frame was due later: the echo does not wait for it
            self._handle = loop.call_later(ECHO_DELAY, self._tick)
        elif self._handle is None:
            delay = FOCUSED_FRAME if self.focused() else FRAME_DELAY
            self._handle = loop.call_later(delay, self._tick)

    def _tick(self) -> None:
        self._handle = None
        self.render(full=False)

    def render(self, full: bool) -> None:
        screen = self.session.screen
        frame = screen.render(dirty_only=not full)
        if frame.full:
            self.rows = {y: r for y, r in frame.rows.items() if y < screen.rows}
        else:
            self.rows.update(frame.rows)
        changed_cursor = frame.cursor != self.cursor
        self.cursor = frame.cursor
        if not frame.rows and not changed_cursor and not frame.full:
            return
        self.seq += 1
        dirty = ALL if frame.full else set(frame.rows)
        for sender in list(self.subscribers):
            sender.mark(self.agent, dirty)

    def resized(self) -> None:
        self.render(full=True)

    def event(self, dirty, styles: "StyleTable") -> tuple[list[dict], dict]:
        """(style events to send first, the screen event) for the rows in DIRTY (ALL: a full frame)."""
        s = self.session
        screen = s.screen
        ys = sorted(self.rows) if dirty is ALL else sorted(y for y in dirty if y in self.rows)
        pre: list[dict] = []
        rows = {}
        for y in ys:
            runs = []
            for run in self.rows[y].runs:
                sid = styles.intern(run.style, pre)
                runs.append([run.text, sid, run.cells])
            rows[str(y)] = runs
        c = self.cursor
        return pre, {"event": "screen", "agent": self.agent, "seq": self.seq, "full": dirty is ALL,
                     "cols": screen.cols, "rows": screen.rows, "rows_changed": rows,
                     "cursor": [c.x, c.y, c.visible] if c else [0, 0, False],
                     "modes": modes_json(screen.modes), "title": screen.title, "exited": s.exited,
                     "exit_status": s.exit_status, "output_seq": s.output_seq}


class StyleTable:
    """Per-connection style ids: a style's definition goes out once, before the first row using it."""

    def __init__(self) -> None:
        self.ids: dict = {}

    def intern(self, style, pre: list[dict]) -> int:
        sid = self.ids.get(style)
        if sid is None:
            sid = self.ids[style] = len(self.ids)
            pre.append({"event": "style", "id": sid, "style": style_json(style)})
        return sid


class ScreenSender:
    """One client's dirty rows per agent, written out as the socket drains (latest rows win)."""

    def __init__(self, conn, screens: dict) -> None:
        self.conn = conn
        self.screens = screens  # agent -> AgentScreen (the server's table)
        self.dirty: dict = {}  # agent -> set of rows, or ALL
        self.styles = StyleTable()
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"screens-{conn.client_id}")
        self.frames_sent = 0
        self._focus_went = False  # the last agent written was the focused one

    def mark(self, agent: str, rows) -> None:
        if rows is ALL or self.dirty.get(agent, set()) is ALL:
            self.dirty[agent] = ALL
        else:
            self.dirty.setdefault(agent, set()).update(rows)
        self._wake.set()

    def forget(self, agent: str) -> None:
        self.dirty.pop(agent, None)

    def _next(self) -> str:
        """The focused agent first (its echo), but never twice in a row while others wait (no starving)."""
        focus = getattr(self.conn, "focus", None)
        oldest = next(iter(self.dirty))
        if focus in self.dirty and not (self._focus_went and len(self.dirty) > 1):
            self._focus_went = True
            return focus
        if oldest == focus:
            oldest = next(a for a in self.dirty if a != focus)
        self._focus_went = False
        return oldest

    async def _run(self) -> None:
        writer = self.conn.writer
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self.dirty:
                if writer.transport.get_write_buffer_size() > LOW_WATER:
                    await self.conn.drained()  # returns at once unless the transport paused writing
                    if writer.transport.get_write_buffer_size() > LOW_WATER:
                        await asyncio.sleep(0.01)
                    continue
                agent = self._next()
                rows = self.dirty.pop(agent)
                screen = self.screens.get(agent)
                if screen is None or self not in screen.subscribers:
                    continue
                pre, event = screen.event(rows, self.styles)
                for e in pre:
                    self.conn.send(e)
                self.conn.send(event)
                self.frames_sent += 1
                await asyncio.sleep(0)

    def close(self) -> None:
        self._task.cancel()
