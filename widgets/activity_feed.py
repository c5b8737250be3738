"""The activity feed: the town's event log, newest at the bottom, appended live."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from widgets.view_models import EventView

SYMBOL = {
    "sling": "→", "hook": "⚓", "unhook": "↩", "handoff": "⇄", "done": "✓", "mail": "✉", "spawn": "+",
    "kill": "✖", "nudge": "⚡", "boot": "⏻", "merged": "✓", "merge_failed": "✗", "merge_started": "⚙",
    "escalation_sent": "⬆", "session_start": "▶", "session_end": "■", "session_death": "✖",
    "patrol_started": "◎", "patrol_complete": "◉",
}


def event_line(event: EventView) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    ts = event.ts[11:19] if len(event.ts) >= 19 else event.ts
    text.append(f"{ts} ", style="dim")
    text.append(f"{SYMBOL.get(event.type, '·')} ", style="bold")
    text.append(f"{event.type:<14} ", style="italic")
    text.append(f"{event.actor} ", style="bold")
    text.append(event.summary)
    return text


class ActivityFeed(RichLog):
    """Shows events; `show_events` appends only the ones not yet shown."""

    def __init__(self, **kwargs) -> None:
        super().__init__(max_lines=2000, wrap=False, markup=False, auto_scroll=True, **kwargs)
        self._seen = 0
        self._first: EventView | None = None

    def show_events(self, events: list[EventView]) -> None:
        if events and (self._first is None or events[0] != self._first or len(events) < self._seen):
            self.clear()
            self._seen = 0
            self._first = events[0]
        for event in events[self._seen:]:
            self.write(event_line(event))
        self._seen = len(events)
        if not events and self._seen == 0:
            self.clear()
            self.write(Text("no events yet", style="dim"))
