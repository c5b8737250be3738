"""The live terminal pane: draws an agent session's screen and types into it.

A Line-API widget (`render_line` -> `Strip`). What it shows (rows, strips,
cursor, title, the crop of an agent taller than the pane) is its view model, a
`TerminalView` (widgets/terminal_view.py); the bytes a key sends are
`terminal_keys.key_bytes`; scrollback and search, and the mouse, are
`terminal_scrollback.py` and `terminal_mouse.py`. Attributes down: the owner sets
`pane.session` (anything with `screen` — a `gastown_tui.sessions.vt.VtScreen` —
`output_seq`, `write(bytes)` and `resize(cols, rows)`, e.g. a
`gastown_tui.sessions.session.Session`). Messages up: `PrefixKey`,
`TitleChanged`, `ModeChanged`, `Copied`.

Drawing: one app-wide `FrameClock` ticks (30 fps); on a tick a visible pane
whose session produced output asks the engine for the dirty rows only, turns
them into strips and refreshes just those lines — at most once per frame
however much output arrived (60 per second at most). Unfocused panes draw every
third tick, hidden ones not at all. For a moment after a key press, the focused
pane draws as soon as the session reports output (its output listener; sources
without one are polled every few ms), so the echo does not wait for a tick; so
does a pane's first output of a session (an agent just shown, or attached to).
What a person waits for — that echo, or the pane switched to another agent —
is also painted at once (`terminal_clock.draw_now`), not at Textual's next
60 Hz screen tick.
The pane resizes the session's PTY to its own size, forwards focus in/out when
the program asked for it (?1004), and says on its bottom row when the program
has exited and with what status.

Keys, when focused: every key goes to the program (xterm encoding, bracketed
paste when asked) except the prefix key (default ctrl+b). After the prefix:

| key       | effect                                               |
|-----------|------------------------------------------------------|
| prefix    | sends the prefix key itself to the program           |
| `[`       | scrollback mode                                       |
| `escape`  | cancels                                               |
| any other | posted to the app as `TerminalPane.PrefixKey`        |

Scrollback mode (also entered with the mouse wheel or shift+pageup when the
program did not ask for the mouse): up/down/k/j a line, pageup/pagedown/b/space
a page, ctrl+u/ctrl+d half a page, g/home top, G/end bottom, `/` search
(typed at the bottom row; Enter finds the nearest older match), n older match,
N newer match, y copy (the selection, or all rows shown), q/escape back to live. Mouse drag selects text (in any mode when
the program did not ask for the mouse; with shift held when it did); releasing
copies it to the host clipboard through Textual (OSC 52, written by Textual's
driver — never by the agent). Programs that asked for the mouse get clicks,
motion and the wheel in the encoding they chose.

Safety: nothing the agent writes reaches the host terminal. The pane draws
cells from the engine, with every control character replaced; titles are
re-sanitized; OSC 52 and other host sequences from the agent end in the engine.
"""
from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

from rich.style import Style as RichStyle
from textual import events
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from gastown_tui.sessions.keys import encode_key, encode_paste
from gastown_tui.sessions.vt import Modes
from widgets.terminal_clock import PAINT_AFTER_TURNS, FrameClock, after_loop_turns, draw_now
from widgets.terminal_keys import key_bytes
from widgets.terminal_mouse import MouseMixin
from widgets.terminal_render import overlay
from widgets.terminal_scrollback import ScrollbackMixin, status_strip
from widgets.terminal_search import Match, row_spans
from widgets.terminal_selection import Selection
from widgets.terminal_view import TerminalView, clean_title  # noqa: F401  (clean_title: its old home)

CURSOR_STYLE = RichStyle(reverse=True)
SELECT_STYLE = RichStyle(reverse=True)
MATCH_STYLE = RichStyle(bgcolor="yellow", color="black")
HOT_POLL_SECONDS = 0.15
HOT_POLL_INTERVAL = 0.003
MIN_FRAME = 1 / 60  # rows are converted at most this often, however much output arrives


class TerminalPane(ScrollbackMixin, MouseMixin, Widget, can_focus=True):
    """Shows a session's terminal screen; sends keys, paste and mouse to it when focused."""

    DEFAULT_CSS = """
    TerminalPane {
        width: 1fr;
        height: 1fr;
        min-width: 10;
        min-height: 3;
    }
    """
    ALLOW_SELECT = False  # the pane does its own selection (terminal cells, not widget text)

    @dataclass
    class PrefixKey(Message):
        """The key pressed after the prefix key, for the app to act on."""

        pane: "TerminalPane"
        key: str

        @property
        def control(self) -> "TerminalPane":
            return self.pane

    @dataclass
    class TitleChanged(Message):
        pane: "TerminalPane"
        title: str

        @property
        def control(self) -> "TerminalPane":
            return self.pane

    @dataclass
    class ModeChanged(Message):
        """Live / scrollback / search mode changed."""

        pane: "TerminalPane"
        mode: str

        @property
        def control(self) -> "TerminalPane":
            return self.pane

    @dataclass
    class Copied(Message):
        pane: "TerminalPane"
        text: str

        @property
        def control(self) -> "TerminalPane":
            return self.pane

    def __init__(self, session=None, *, prefix_key: str = "ctrl+b", name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.prefix_key = prefix_key
        """The key that hands the next key to the app (settings: app.prefix_key)."""
        self._session = session
        self._listening = self._listen(session)
        self.view = TerminalView()
        """What the pane shows: rows, strips, cursor, title, top row."""
        self._first_output_drawn = False  # the session's first output is drawn at once, not at a frame tick
        self._prefix_pending = False
        self._hot_until = 0.0
        self._hot_timer = None
        self._last_draw = 0.0
        self._deferred = None
        self._draw_pending = False
        self._answer_due = False
        self._exited_shown = False
        self.mode = "live"  # live | scrollback | search
        self.search_query = ""
        self._search_input = ""
        self._matches: list[Match] = []
        self._match_index = -1
        self._selection: Selection | None = None
        self._selecting = False
        self.frames_drawn = 0
        """Frames in which something was drawn (for tests and benchmarks)."""
        self.lines_refreshed = 0
        """Rows converted to strips so far (for tests and benchmarks): only dirty rows count."""

    # -- the session -----------------------------------------------------------------------
    @property
    def session(self):
        return self._session

    @session.setter
    def session(self, session) -> None:
        if session is self._session:
            return
        self._unlisten()
        self._session = session
        self._listening = self._listen(session)
        self.view.reset()
        self._first_output_drawn = False  # the session's first output is drawn at once, not at a frame tick
        self._selection = None
        self._set_mode("live")
        if session is not None and self.size.width and self.size.height:
            self._sync_size()
        self.refresh()
        self._draw_soon()

    def _listen(self, session) -> bool:
        """Hooks the session's output listener (if it has one) so a focused pane echoes without delay."""
        add = getattr(session, "add_output_listener", None)
        if add is None:
            return False
        ref = weakref.ref(self)

        def on_output(source) -> None:
            pane = ref()
            if pane is not None and pane._session is source and (time.monotonic() < pane._hot_until
                                                                 or not pane._first_output_drawn):
                pane.call_later(pane._echo_poll)  # an echo, or the first screen of an agent just shown

        add(on_output)
        self._on_output = on_output
        return True

    def _unlisten(self) -> None:
        """Removes our output listener from the session, when the session offers a way to."""
        remove = getattr(self._session, "remove_output_listener", None)
        if remove is not None and getattr(self, "_on_output", None) is not None:
            remove(self._on_output)
        self._on_output = None

    @property
    def _screen(self):
        return getattr(self._session, "screen", None)

    def _modes(self) -> Modes:
        screen = self._screen
        return screen.modes if screen is not None else Modes()

    # -- lifecycle -----------------------------------------------------------------------------
    def on_mount(self) -> None:
        FrameClock.for_app(self.app).register(self)

    def on_unmount(self) -> None:
        FrameClock.for_app(self.app).unregister(self)
        self._unlisten()

    def on_resize(self, event: events.Resize) -> None:
        self._sync_size()

    def claim_size(self) -> None:
        """Sizes the session to this pane now (the pane was given the keyboard: its size is the agent's)."""
        self._sync_size()

    def _sync_size(self) -> None:
        screen = self._screen
        width, height = self.size.width, self.size.height
        if screen is None or width < 1 or height < 1:
            return
        if (screen.cols, screen.rows) != (width, height):
            self._session.resize(width, height)
        self.view.full_due = True
        self.poll()

    def on_focus(self) -> None:
        if self._modes().focus_events:
            self._session.write(b"\x1b[I")  # the program asked to know (?1004), as xterm tells it
        self._refresh_cursor_line()

    def on_blur(self) -> None:
        self._prefix_pending = False
        if self._modes().focus_events:
            self._session.write(b"\x1b[O")
        self._refresh_cursor_line()

    # -- drawing ---------------------------------------------------------------------------------
    def on_frame(self, frame: int) -> None:
        """Called by the FrameClock: focused panes every tick, others every third, hidden ones never."""
        if not self.display or not self.is_mounted or self.app.screen is not self.screen:
            return
        if not self.has_focus and frame % 3:
            return
        self.poll()
        exited = bool(getattr(self._session, "exited", False))
        if exited != self._exited_shown:
            self._exited_shown = exited
            self.refresh()

    def poll(self, repaint: bool = True) -> bool:
        """Draws whatever changed since the last poll; returns whether anything did. `repaint` False: the
        lines are being painted now (only the view is brought up to date)."""
        screen = self._screen
        if screen is None:
            return False
        view = self.view
        seq = getattr(self._session, "output_seq", 0)
        if seq == view.seen_seq and not view.full_due:
            return False
        now = time.monotonic()
        if now - self._last_draw < MIN_FRAME and not view.full_due and not self._answer_due:
            if self._deferred is None:  # drawn less than a frame ago: draw again when the frame is up
                self._deferred = self.set_timer(MIN_FRAME - (now - self._last_draw), self._deferred_poll)
            return False
        self._last_draw = now
        self._answer_due = False
        view.seen_seq = seq
        self._first_output_drawn = self._first_output_drawn or seq > 0
        full = view.full_due
        view.full_due = False
        frame = screen.render(dirty_only=not full)
        width = self.size.width
        changed = view.take(frame, width, self.rich_style)
        self.lines_refreshed += len(frame.rows)
        moved = view.follow_cursor(screen.rows, self.size.height, self.mode == "live")
        if view.set_title(screen.title):
            self.post_message(self.TitleChanged(self, view.title))
        if not repaint:
            pass
        elif frame.full or moved:
            self.refresh()
        else:
            top = view.top
            for y in sorted(changed):
                if 0 <= y - top < self.size.height:
                    self.refresh(Region(0, y - top, width, 1))
        if changed or frame.full:
            self.frames_drawn += 1
        return bool(changed or frame.full)

    def notify_style_update(self) -> None:
        """The theme or CSS changed: cached strips carry the old default colours."""
        super().notify_style_update()
        self.view.strips.clear()
        self.refresh()

    def _deferred_poll(self) -> None:
        self._deferred = None
        if time.monotonic() < self._hot_until:
            self._echo_poll()
        else:
            self.poll()

    def render_lines(self, crop: Region) -> list[Strip]:
        if self.view.seen_seq < 0 and self._session is not None and self.size.width and self.size.height:
            # painted for the first time since it was given its session (and a size): take the session's screen
            # now, so this very paint shows it (the app's first frame shows an attached agent's rows, which came
            # in before the pane was laid out; its resize event is handled only after this paint)
            self.poll(repaint=False)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        view = self.view
        strip = view.strip(y, width, self.rich_style)
        if self.search_query and self.mode != "live" and (text := view.row_text(y)) is not None:
            for start, end in row_spans(text, self.search_query):
                strip = overlay(strip, start, end, MATCH_STYLE)
        if self._selection is not None and (span := self._selection.span(y, width)):
            strip = overlay(strip, span[0], span[1], SELECT_STYLE)
        if self.mode == "live" and self.has_focus and self._scroll_offset() == 0:
            x = view.cursor_at(y)
            if x is not None:
                strip = overlay(strip, x, x + 1, CURSOR_STYLE)
        if y == self.size.height - 1:
            if self.mode != "live":
                strip = self._status_strip(width)
            elif self._exited_shown:
                status = getattr(self._session, "exit_status", None)
                strip = status_strip(f" the program exited (status {status}) ", width)
        return strip

    def _refresh_cursor_line(self) -> None:
        cursor = self.view.cursor
        if cursor is not None and self.size.width:
            self.refresh(Region(0, cursor.y - self.view.top, self.size.width, 1))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return container.height

    # -- keys ------------------------------------------------------------------------------------
    async def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        key = event.key
        if self._prefix_pending:
            self._prefix_pending = False
            self._after_prefix(event)
            return
        if key == self.prefix_key:
            self._prefix_pending = True
            return
        if self.mode == "search":
            self._search_key(event)
        elif self.mode == "scrollback":
            self._scrollback_key(event)
        else:
            if key == "shift+pageup" and not self._modes().alt_screen:
                self._enter_scrollback()
                self._scroll(-max(1, self.size.height - 1))
                return
            self._send_key(event)

    def _after_prefix(self, event: events.Key) -> None:
        if event.key == self.prefix_key:
            self._write(encode_key(self.prefix_key, self._modes()))
        elif event.character == "[" or event.key == "left_square_bracket":
            self._enter_scrollback()
        elif event.key != "escape":
            self.post_message(self.PrefixKey(self, event.key))

    def _send_key(self, event: events.Key) -> None:
        self._write(key_bytes(event.key, event.character, self._modes()))

    def _write(self, data: bytes) -> None:
        if self._session is None or not data:
            return
        self._session.write(data)
        self._go_hot()

    def _go_hot(self) -> None:
        """Polls every few ms for a moment after input, so the echo shows within milliseconds."""
        self._hot_until = time.monotonic() + HOT_POLL_SECONDS
        self._answer_due = True  # the first output after a key is drawn at once, even within a frame of the last
        if self._listening:
            return  # the session tells us when output arrives
        if self._hot_timer is None:
            self._hot_timer = self.set_interval(HOT_POLL_INTERVAL, self._hot_poll, name="terminal-echo")
        else:
            self._hot_timer.resume()

    def _echo_poll(self) -> None:
        """Output after a key typed here: drawn and painted at once, not at the next frame or screen tick."""
        if self.poll():
            self._draw_soon()

    def _draw_soon(self) -> None:
        """Paints the screen once the widgets changed by the current handler have reported their
        repaints (the person is waiting for this), instead of at the screen's next update tick."""
        if self.is_mounted and not self._draw_pending:
            self._draw_pending = True
            after_loop_turns(PAINT_AFTER_TURNS, self._draw_now)

    def _draw_now(self) -> None:
        self._draw_pending = False
        if self.is_mounted and self.display:
            draw_now(self.screen)

    def _hot_poll(self) -> None:
        self._echo_poll()
        if time.monotonic() > self._hot_until and self._hot_timer is not None:
            self._hot_timer.pause()

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        if self.mode == "search":
            self._search_input += event.text.replace("\n", " ")
            self._refresh_status()
        elif self.mode == "live":
            self._write(encode_paste(event.text, self._modes()))

    @property
    def title(self) -> str:
        """The program's window title, sanitized."""
        return self.view.title
