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
        self._last: EventView | None = None
        self._empty_note = False

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
        for event in new:
            self.write(event_line(event))
        self._last = events[-1]
