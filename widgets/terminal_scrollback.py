"""Scrollback mode and search for the terminal pane (a mixin of `TerminalPane`).

The engine keeps the history; the pane moves the engine's viewport and redraws.
Keys are listed in `widgets.terminal_pane`'s docstring.
"""
from __future__ import annotations

from rich.segment import Segment
from rich.style import Style as RichStyle
from textual import events
from textual.geometry import Region
from textual.strip import Strip

from widgets.terminal_search import search_history
from widgets.terminal_selection import Selection

STATUS_STYLE = RichStyle(bgcolor="yellow", color="black", bold=True)


def status_strip(text: str, width: int) -> Strip:
    """A highlighted one-row message across the pane's bottom row."""
    return Strip([Segment(text[:width].ljust(width), STATUS_STYLE)], width)


class ScrollbackMixin:
    """Scrollback, `/` search and n/N for a TerminalPane."""

    def _set_mode(self, mode: str) -> None:
        if mode != self.mode:
            self.mode = mode
            if self.is_mounted:
                self.post_message(self.ModeChanged(self, mode))
                self.refresh()

    def _scroll_offset(self) -> int:
        screen = self._screen
        return screen.viewport_offset if screen is not None else 0

    def _enter_scrollback(self) -> None:
        self._selection = None  # a fresh start: the old selection was copied when it was made
        self._set_mode("scrollback")

    def _leave_scrollback(self) -> None:
        screen = self._screen
        if screen is not None:
            screen.scroll_to_bottom()
        self._selection = None
        self._set_mode("live")
        self.view.full_due = True
        self.poll()

    def _scroll(self, delta: int) -> None:
        screen = self._screen
        if screen is None:
            return
        screen.scroll_viewport(delta)
        self._selection = None  # it was on screen positions that now show other rows
        self.view.full_due = True
        self.poll()

    def _scroll_to_row(self, row: int) -> None:
        """Scrolls so absolute history row `row` is shown (about a third from the top)."""
        screen = self._screen
        top = screen.scrollback_rows - screen.viewport_offset
        want = max(0, min(screen.scrollback_rows, row - self.size.height // 3))
        if want != top:
            self._scroll(want - top)

    def _scrollback_key(self, event: events.Key) -> None:
        key, char = event.key, event.character
        page = max(1, self.size.height - 1)
        moves = {"up": -1, "k": -1, "down": 1, "j": 1, "pageup": -page, "b": -page, "shift+pageup": -page,
                 "pagedown": page, "space": page, "shift+pagedown": page,
                 "ctrl+u": -(page // 2 or 1), "ctrl+d": page // 2 or 1}
        if key in moves or char in ("k", "j", "b"):
            self._scroll(moves.get(key, moves.get(char or "", 0)))
        elif key in ("home", "g") or char == "g" and key != "G":
            self._scroll(-self._screen.scrollback_rows)
        elif key in ("end",) or char == "G":
            self._leave_scrollback()
        elif key in ("q", "escape") or char == "q":
            self._leave_scrollback()
        elif char == "/" or key == "slash":
            self._search_input = ""
            self._set_mode("search")
        elif char == "n":
            self._next_match(-1)
        elif char == "N":
            self._next_match(+1)
        elif char == "y":
            self._copy_view()

    def _copy_view(self) -> None:
        """`y`: copies the selection, or with none every row shown (the status row aside)."""
        if self._selection is None or self._selection.empty:
            last = max(0, self.size.height - 2)
            self._selection = Selection((0, 0), (last, max(0, self.size.width - 1)))
            self.copy_selection()
            self._selection = None
            self.refresh()
        else:
            self.copy_selection()

    def _search_key(self, event: events.Key) -> None:
        if event.key == "escape":
            self._set_mode("scrollback")
        elif event.key == "enter":
            self.search(self._search_input)
        elif event.key == "backspace":
            self._search_input = self._search_input[:-1]
            self._refresh_status()
        elif event.character and event.character.isprintable():
            self._search_input += event.character
            self._refresh_status()

    def _refresh_status(self) -> None:
        if self.size.height:
            self.refresh(Region(0, self.size.height - 1, self.size.width, 1))

    def search(self, query: str) -> bool:
        """Finds `query` in history + screen and shows the nearest match above the viewport's bottom row."""
        self.search_query = query
        self._set_mode("scrollback")
        screen = self._screen
        if screen is None or not query:
            self._matches = []
            self.refresh()
            return False
        self._matches = search_history(screen.history_text(), screen.cols, query)
        if not self._matches:
            self._match_index = -1
            self.refresh()
            return False
        bottom = screen.scrollback_rows - screen.viewport_offset + screen.rows - 1
        older = [i for i, m in enumerate(self._matches) if m.row <= bottom]
        self._match_index = older[-1] if older else len(self._matches) - 1
        self._scroll_to_row(self._matches[self._match_index].row)
        self.refresh()
        return True

    def _next_match(self, step: int) -> None:
        if not self._matches:
            return
        self._match_index = (self._match_index + step) % len(self._matches)
        self._scroll_to_row(self._matches[self._match_index].row)
        self.refresh()

    def _status_strip(self, width: int) -> Strip:
        screen = self._screen
        if self.mode == "search":
            text = f"/{self._search_input}"
        else:
            offset = self._scroll_offset()
            total = screen.scrollback_rows if screen is not None else 0
            found = f" · {self._match_index + 1}/{len(self._matches)} {self.search_query!r}" if self._matches else (
                f" · {self.search_query!r} not found" if self.search_query else "")
            text = f" SCROLLBACK {offset}/{total}{found} · / search · n/N · q exit "
        return status_strip(text, width)
