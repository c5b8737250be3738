"""The activity feed: the town's event log, newest at the bottom, appended live.

A Line-API widget: it keeps the events' lines as text and makes each visible line when it is painted, at
the width it then has. (It used to be a `RichLog`, which renders every line as it is written and, before its
size is known, puts the writing off to its first resize: the lines were missing from the Town screen's first
frame and cost it the rendering of every line of the window, shown or not.) It looks and scrolls as that log
did: the same style, lines cut at the pane's width (at least `MIN_WIDTH` wide), the view kept at the newest
line whenever lines are added, at most `MAX_LINES` kept.
"""
from __future__ import annotations

from rich.segment import Segment
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from widgets.view_models import EventView

SYMBOL = {
    "sling": "→", "hook": "⚓", "unhook": "↩", "handoff": "⇄", "done": "✓", "mail": "✉", "spawn": "+",
    "kill": "✖", "nudge": "⚡", "boot": "⏻", "merged": "✓", "merge_failed": "✗", "merge_started": "⚙",
    "escalation_sent": "⬆", "session_start": "▶", "session_end": "■", "session_death": "✖",
    "patrol_started": "◎", "patrol_complete": "◉",
}
MAX_LINES = 2000
MIN_WIDTH = 78  # a line is never cut narrower than this (the pane scrolls sideways below it)


def event_line(event: EventView) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    ts = event.ts[11:19] if len(event.ts) >= 19 else event.ts
    text.append(f"{ts} ", style="dim")
    text.append(f"{SYMBOL.get(event.type, '·')} ", style="bold")
    text.append(f"{event.type:<14} ", style="italic")
    text.append(f"{event.actor} ", style="bold")
    text.append(event.summary)
    return text


class ActivityFeed(ScrollView, can_focus=True):
    """Shows events; `show_events` appends only the ones not yet shown."""

    DEFAULT_CSS = """
    ActivityFeed {
        background: $surface;
        color: $foreground;
        overflow-y: scroll;
        &:focus {
            background-tint: $foreground 5%;
        }
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines: list[Text] = []
        self._first = 0  # how many lines were dropped from the top (MAX_LINES): a line's number is _first + index
        self._strips: LRUCache[tuple[int, int, int], Strip] = LRUCache(1024)
        self._last: EventView | None = None
        self._empty_note = False

    # -- what is shown -----------------------------------------------------------------------------------
    def show_events(self, events: list[EventView]) -> None:
        """Appends the events after the last one shown (the list is a sliding window of the log)."""
        new = events
        if self._last is not None:
            for index in range(len(events) - 1, -1, -1):
                if events[index] == self._last:
                    new = events[index + 1:]
                    break
            else:
                self.clear()
        if not events:
            if not self._empty_note:
                self.clear()
                self.write(Text("no events yet", style="dim"))
                self._empty_note = True
            return
        if self._empty_note:
            self.clear()
            self._empty_note = False
        if new:
            self.write(*(event_line(event) for event in new))
        self._last = events[-1]

    def write(self, *lines: Text) -> None:
        """Adds lines at the bottom and keeps the newest line in view."""
        self.lines.extend(lines)
        if len(self.lines) > MAX_LINES:
            self._first += len(self.lines) - MAX_LINES
            self.lines = self.lines[-MAX_LINES:]
            self.refresh()
        self.virtual_size = Size(MIN_WIDTH, len(self.lines))
        # (before the first layout the bottom is clamped to the pane's height there: the first frame shows the
        # newest lines)
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    def clear(self) -> None:
        self.lines.clear()
        self._strips.clear()
        self._first = 0
        self.virtual_size = Size(MIN_WIDTH, 0)
        self.refresh()

    # -- painting --------------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        if index >= len(self.lines):
            return Strip.blank(width, self.rich_style).apply_style(self.rich_style)
        key = (self._first + index, scroll_x, width)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._line_strip(self.lines[index], width).crop_extend(scroll_x, scroll_x + width,
                                                                            self.rich_style)
            self._strips[key] = strip
        return strip.apply_style(self.rich_style)

    def _line_strip(self, line: Text, width: int) -> Strip:
        """One line cut at the pane's width (never under MIN_WIDTH), as RichLog rendered a line written to it."""
        console = self.app.console
        render_width = max(min(line.cell_len, width), MIN_WIDTH)
        options = console.options.update(overflow="ignore", no_wrap=True).update_width(render_width)
        rows = list(Segment.split_lines(console.render(line, options)))
        return Strip(rows[0]) if rows else Strip.blank(render_width)
