"""Mouse handling for the terminal pane (a mixin of `TerminalPane`).

Programs that asked for the mouse get it (press, release, motion, wheel, in the
encoding they chose); otherwise the wheel scrolls back and a drag selects text,
copied to the host clipboard on release (OSC 52 through Textual). Shift+drag
selects even when the program takes the mouse.
"""
from __future__ import annotations

from textual import events

from gastown_tui.sessions.keys import encode_mouse
from widgets.terminal_selection import Selection


class MouseMixin:
    """Mouse events for a TerminalPane."""

    def _program_wants_mouse(self, event: events.MouseEvent | None = None) -> bool:
        """Mouse events go to the program when it asked for them (hold shift to select text instead)."""
        if event is not None and event.shift:
            return False
        return self.mode == "live" and self._modes().mouse

    def _mouse(self, kind: str, event: events.MouseEvent, button: int) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        data = encode_mouse(kind, button, offset.x, offset.y + self.view.top, self._modes(),
                            shift=event.shift, alt=event.meta, ctrl=event.ctrl)
        self._write(data)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        if self._program_wants_mouse():
            self._mouse("scroll_up", event, 0)
        elif not self._modes().alt_screen:
            if self.mode == "live":
                self._enter_scrollback()
            self._scroll(-3)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        if self._program_wants_mouse():
            self._mouse("scroll_down", event, 0)
        elif self.mode != "live":
            self._scroll(3)
            if self._scroll_offset() == 0 and self.mode == "scrollback" and not self.search_query:
                self._leave_scrollback()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self.focus()
        if self._program_wants_mouse(event):
            self._mouse("press", event, max(0, event.button - 1))
            return
        offset = event.get_content_offset(self)
        if offset is not None:
            self._selection = Selection((offset.y, offset.x), (offset.y, offset.x))
            self._selecting = True
            self.capture_mouse()
            self.refresh()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._program_wants_mouse(event) and not self._selecting:
            if self._modes().mouse_motion:
                self._mouse("move", event, max(-1, event.button - 1) if event.button else -1)
            return
        if self._selecting and self._selection is not None:
            x = max(0, min(event.x, self.size.width - 1))
            y = max(0, min(event.y, self.size.height - 1))
            self._selection.head = (y, x)
            self.refresh()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._program_wants_mouse(event) and not self._selecting:
            self._mouse("release", event, max(0, event.button - 1))
            return
        self._selecting = False
        self.release_mouse()
        if self._selection is not None and not self._selection.empty:
            self.copy_selection()

    def copy_selection(self) -> str:
        """Copies the selected text to the host clipboard (OSC 52 through Textual); returns it."""
        if self._selection is None:
            return ""
        rows = self.view.texts()
        text = self._selection.text(rows, self.size.width)
        if text:
            self.app.copy_to_clipboard(text)
            self.post_message(self.Copied(self, text))
        return text
