"""What a terminal pane shows of its session's screen: the view model of `TerminalPane`.

The rows the engine last gave (and their strips), the cursor, the title, the output batch last drawn, and
which agent row is on the pane's top row. It knows nothing of timing, focus, keys or Textual's widget
tree: the pane (widgets/terminal_pane.py) decides when to take a frame and which lines to repaint.

Cropping: an agent taller than its pane (a bigger client sized it) is cropped from the top, so its newest
content stays in sight: the view ends at its last row with text or its cursor, whichever is lower, and the
cursor is never out of view (tmux pans a too-big window to its cursor in the same spirit).
"""
from __future__ import annotations

from rich.style import Style as RichStyle
from textual.strip import Strip

from gastown_tui.sessions.vt import Cursor, Frame, Row
from widgets.terminal_render import CONTROL_CHARS, cached_row_strip, clean_row, clean_text


def clean_title(title: str) -> str:
    """A title that is safe to show: no control or bidi-override characters, at most 200 characters."""
    return CONTROL_CHARS.sub("", title or "")[:200]


class TerminalView:
    """The rows, strips, cursor, title and top row one pane shows."""

    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}
        """The engine's rows by agent row number (only rows it reported)."""
        self.strips: dict[int, Strip] = {}
        """The rows converted to strips, by agent row number; cleared when the theme changes."""
        self.cursor: Cursor | None = None
        self.top = 0
        """The agent's row shown on the pane's top row (non-zero only when the agent is taller than the pane)."""
        self.title = ""
        self.seen_seq = -1
        """The session's `output_seq` last drawn."""
        self.full_due = True
        """The next frame asks the engine for every row (a new session, a resize, a scroll)."""

    def reset(self) -> None:
        """Another session: nothing of the old one is shown."""
        self.rows.clear()
        self.strips.clear()
        self.cursor = None
        self.top = 0
        self.seen_seq = -1
        self.full_due = True

    def take(self, frame: Frame, width: int, base: RichStyle) -> set[int]:
        """Keeps the frame's rows (as strips `width` wide on the pane's style `base`) and cursor; returns the
        agent rows whose line must be repainted."""
        changed = set(frame.rows)
        if frame.full:  # every row is in the frame: forget rows the screen no longer has
            self.strips.clear()
            self.rows.clear()
        for y, row in frame.rows.items():
            self.rows[y] = row
            self.strips[y] = cached_row_strip(row, width, base, clean_row)
        if self.cursor != frame.cursor:
            if self.cursor is not None:
                changed.add(self.cursor.y)
            changed.add(frame.cursor.y)
            self.cursor = frame.cursor
        return changed

    def follow_cursor(self, rows: int, height: int, live: bool) -> bool:
        """Pans the view of an agent `rows` tall in a pane `height` tall (see the module's docstring): the view
        ends at the last row with text or the cursor, whichever is lower (a TUI's footer under its prompt stays
        in sight), and the cursor is never out of view; in scrollback (`live` False) it stays put. Returns
        whether the top row moved."""
        top = 0
        if rows > height >= 1:
            top = self.top
            cursor = self.cursor
            if live:
                last = max((y for y, row in self.rows.items() if row.text.strip()), default=0)
                bottom = max(last, cursor.y if cursor is not None else 0)
                top = bottom - height + 1
                if cursor is not None and cursor.y < top:
                    top = cursor.y
            top = max(0, min(top, rows - height))
        moved = top != self.top
        self.top = top
        return moved

    def set_title(self, title: str) -> bool:
        """Keeps the program's title, sanitized; returns whether it changed."""
        title = clean_title(title)
        if title == self.title:
            return False
        self.title = title
        return True

    def strip(self, y: int, width: int, base: RichStyle) -> Strip:
        """The strip for pane line `y` (agent row y + top), `width` wide."""
        row = y + self.top
        strip = self.strips.get(row)
        if strip is None or strip.cell_length != width:
            strip = cached_row_strip(self.rows.get(row), width, base, clean_row)
            self.strips[row] = strip
        return strip

    def row_text(self, y: int) -> str | None:
        """The clean text of pane line `y`, or None when the engine reported no row there."""
        row = self.rows.get(y + self.top)
        return None if row is None else clean_text(row.text)

    def texts(self) -> dict[int, str]:
        """The clean text of every row shown, by pane line."""
        return {y - self.top: clean_text(row.text) for y, row in self.rows.items()}

    def cursor_at(self, y: int) -> int | None:
        """The cursor's column when it is visible on pane line `y`, else None."""
        cursor = self.cursor
        if cursor is not None and cursor.visible and cursor.y == y + self.top:
            return cursor.x
        return None
