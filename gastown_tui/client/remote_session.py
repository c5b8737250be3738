"""An agent's session as the app sees it through the town server: `RemoteSession` and its `RemoteScreen`.

They offer exactly what `widgets/terminal_pane.TerminalPane` uses of a local
`Session` (and its VT screen), fed by the server's `screen` events (changed rows
of `vt.Row`/`StyleRun`, styles interned per connection, docs/protocol.md): the
pane cannot tell them apart. Keys go out as `input`; `resize` becomes a resize
request only while this app's user has the agent in focus (the server owns the
size; another app's pane never changes it). Scrollback and search read the
server's history (`history` pages, the last HISTORY_LINES lines), fetched when
the pane goes into scrollback mode and again each time it comes back to live.
"""
from __future__ import annotations

import asyncio
import base64
from typing import Any, Awaitable, Callable

from rich.cells import cell_len

from gastown_tui.sessions.vt import Cursor, Frame, Modes, Row, Style, StyleRun

HISTORY_LINES = 5000  # the server's page limit: scrollback reaches this far back


def style_from_json(data: dict[str, Any]) -> Style:
    fields = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items()}
    return Style(**fields)


class RemoteScreen:
    """The server's VT screen of one agent, as the rows this app has been sent."""

    def __init__(self, want_history: Callable[[], None] = lambda: None) -> None:
        self._want_history = want_history  # asks the session to fetch the server's history (it arrives later)
        self.cols = 80
        self.rows = 24
        self.title = ""
        self.modes = Modes()
        self.cursor = Cursor(0, 0, False)
        self._rows: dict[int, Row] = {}
        self._dirty: set[int] = set()
        self._full = True
        self.history: list[str] | None = None  # the server's history + screen as text rows, once fetched
        self._stale = False  # the history was read before the last return to live: read it again
        self._offset = 0  # rows scrolled up from the live screen

    def apply(self, event: dict[str, Any], styles: dict[int, Style]) -> None:
        """Takes one `screen` event."""
        cols, rows = event["cols"], event["rows"]
        if event.get("full") or (cols, rows) != (self.cols, self.rows):
            self._rows = {}
            self._full = True
        self.cols, self.rows = cols, rows
        for y_text, runs in event["rows_changed"].items():
            y = int(y_text)
            self._rows[y] = Row(y, tuple(StyleRun(text, styles.get(sid, Style()), cells) for text, sid, cells in runs))
            self._dirty.add(y)
        x, y, visible = event["cursor"]
        self.cursor = Cursor(x, y, bool(visible))
        self.modes = Modes(**event.get("modes") or {})
        self.title = event.get("title") or ""

    def render(self, dirty_only: bool = True) -> Frame:
        """The rows changed since the last render (all of them when not `dirty_only` or after a full event);
        scrolled up, the history rows in view (plain text)."""
        if self._offset and self.history is not None:
            top = len(self.history) - self.rows - self._offset
            rows = {y: _plain_row(y, self.history[top + y]) for y in range(self.rows)
                    if 0 <= top + y < len(self.history)}
            self._full = True  # back at the bottom, the live rows are drawn again in full
            return Frame(rows, Cursor(0, 0, False), True)
        full = self._full or not dirty_only
        ys = range(self.rows) if full else sorted(self._dirty)
        rows = {y: self._rows.get(y) or Row(y, ()) for y in ys if y < self.rows}
        self._dirty.clear()
        self._full = False
        return Frame(rows, self.cursor, full)

    def text(self) -> str:
        return "\n".join(self._rows[y].text if y in self._rows else "" for y in range(self.rows))

    # -- scrollback (the pane's scrollback mode and search) ------------------------------------------
    @property
    def scrollback_rows(self) -> int:
        if self.history is None or self._stale:
            self._want_history()
        return max(0, len(self.history) - self.rows) if self.history is not None else 0

    @property
    def viewport_offset(self) -> int:
        return self._offset

    def history_text(self) -> str:
        """The history as last read (read again in the background when it may be out of date)."""
        if self.history is None or self._stale:
            self._want_history()
        return "\n".join(self.history) if self.history is not None else self.text()

    def take_history(self, lines: list[str]) -> None:
        self.history = lines
        self._stale = False

    def scroll_viewport(self, delta: int) -> None:
        """`delta` rows down (negative: up, into the history)."""
        self._offset = max(0, min(self.scrollback_rows, self._offset - delta))
        self._full = True

    def scroll_to_bottom(self) -> None:
        self._offset = 0
        self._stale = True  # the next scrollback or search reads the history as it is then
        self._full = True


def _plain_row(y: int, text: str) -> Row:
    return Row(y, (StyleRun(text, Style(), cell_len(text)),)) if text else Row(y, ())


class RemoteSession:
    """One agent's session on the town server."""

    def __init__(self, agent: str, send: Callable[[str, dict], None], may_resize: Callable[[str], bool],
                 watch: Callable[[str, bool], None], *, pid: int | None = None, session_id: str = "",
                 history: Callable[[str], Awaitable[list[str]]] | None = None) -> None:
        self.agent = agent
        self.id = session_id or agent
        self.pid = pid
        self._history = history  # (agent) -> the server's history lines
        self._fetching: asyncio.Task | None = None
        self.screen = RemoteScreen(self._want_history)
        self.exited = False
        self.exit_status: int | None = None
        self.output_seq = 0
        self.state = "starting"
        self._send = send  # (cmd, params): a request whose reply nobody waits for
        self._may_resize = may_resize
        self._watch = watch  # (agent, on): subscribe / unsubscribe its screen
        self._listeners: list[Callable[[Any], None]] = []

    @property
    def alive(self) -> bool:
        return not self.exited

    # -- what the pane calls -------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        if not self.exited:
            self._send("input", {"agent": self.agent, "data": base64.b64encode(data).decode("ascii")})

    def resize(self, cols: int, rows: int) -> None:
        """Asks the server for a new size, only while this app has the agent in focus (others only show it)."""
        if self._may_resize(self.agent):
            self._send("resize", {"agent": self.agent, "cols": cols, "rows": rows})

    def add_output_listener(self, fn: Callable[[Any], None]) -> None:
        self._listeners.append(fn)
        if len(self._listeners) == 1:
            self._watch(self.agent, True)

    def remove_output_listener(self, fn: Callable[[Any], None]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)
            if not self._listeners:
                self._watch(self.agent, False)

    def _want_history(self) -> None:
        if self._history is None or self._fetching is not None:
            return
        self._fetching = asyncio.get_running_loop().create_task(self._fetch_history())

    async def _fetch_history(self) -> None:
        try:
            lines = await self._history(self.agent)
        except Exception as exc:  # shown where the history would be: the pane's scrollback says why
            lines = [f"(the server's history could not be read: {exc})"]
        finally:
            self._fetching = None
        self.screen.take_history(lines)
        self._changed()

    def _changed(self) -> None:
        self.output_seq += 1  # the pane redraws on its next frame
        for fn in list(self._listeners):
            fn(self)

    # -- what the link feeds -------------------------------------------------------------------
    def on_screen(self, event: dict[str, Any], styles: dict[int, Style]) -> None:
        self.screen.apply(event, styles)
        self.exited = bool(event.get("exited"))
        self.exit_status = event.get("exit_status")
        self.output_seq = max(self.output_seq, int(event.get("output_seq") or 0))
        self._changed()
