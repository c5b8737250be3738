"""An agent's session as the app sees it through the town server: `RemoteSession` and its `RemoteScreen`.

They offer exactly what `widgets/terminal_pane.TerminalPane` uses of a local
`Session` (and its VT screen), fed by the server's `screen` events (changed rows
of `vt.Row`/`StyleRun`, styles interned per connection, docs/protocol.md): the
pane cannot tell them apart. Keys go out as `input`; `resize` becomes a resize
request only while this app's user has the agent in focus (the server owns the
size; another app's pane never changes it). Scrollback is this app's view of the
rows it has; the server's history pages are not wired into the pane yet.
"""
from __future__ import annotations

import base64
from typing import Any, Callable

from gastown_tui.sessions.vt import Cursor, Frame, Modes, Row, Style, StyleRun


def style_from_json(data: dict[str, Any]) -> Style:
    fields = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items()}
    return Style(**fields)


class RemoteScreen:
    """The server's VT screen of one agent, as the rows this app has been sent."""

    def __init__(self) -> None:
        self.cols = 80
        self.rows = 24
        self.title = ""
        self.modes = Modes()
        self.cursor = Cursor(0, 0, False)
        self._rows: dict[int, Row] = {}
        self._dirty: set[int] = set()
        self._full = True
        # scrollback stays on the server (history pages); this view is the live screen only
        self.viewport_offset = 0
        self.scrollback_rows = 0

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
        """The rows changed since the last render (all of them when not `dirty_only` or after a full event)."""
        full = self._full or not dirty_only
        ys = range(self.rows) if full else sorted(self._dirty)
        rows = {y: self._rows.get(y) or Row(y, ()) for y in ys if y < self.rows}
        self._dirty.clear()
        self._full = False
        return Frame(rows, self.cursor, full)

    def text(self) -> str:
        return "\n".join(self._rows[y].text if y in self._rows else "" for y in range(self.rows))

    def history_text(self) -> str:
        return self.text()

    def scroll_viewport(self, delta: int) -> None:
        return None

    def scroll_to_bottom(self) -> None:
        return None


class RemoteSession:
    """One agent's session on the town server."""

    def __init__(self, agent: str, send: Callable[[str, dict], None], may_resize: Callable[[str], bool],
                 watch: Callable[[str, bool], None], *, pid: int | None = None, session_id: str = "") -> None:
        self.agent = agent
        self.id = session_id or agent
        self.pid = pid
        self.screen = RemoteScreen()
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

    # -- what the link feeds -------------------------------------------------------------------
    def on_screen(self, event: dict[str, Any], styles: dict[int, Style]) -> None:
        self.screen.apply(event, styles)
        self.exited = bool(event.get("exited"))
        self.exit_status = event.get("exit_status")
        self.output_seq = max(self.output_seq + 1, int(event.get("output_seq") or 0))
        for fn in list(self._listeners):
            fn(self)
