"""The text a program showed on its alternate screen, kept as the screen changes.

A program drawing on the alternate screen (Claude Code from 2.1.3xx, Codex,
opencode) leaves no scrollback: when it exits, the terminal shows the main
screen again and everything it said is gone (Claude Code leaves only "Resume
this session with: claude --resume <id>"). The session hands this log each
screen it reads while the alternate screen is active; the log keeps every line
not among the lines seen recently (the last RECENT distinct ones, refreshed each
time they show, so the frame around the conversation is kept once), in the
order lines first appeared. Lines that differ only in spinners, blinking
markers, clocks and counters (see rules.normalized) count as the same line, so
a spinner line is kept once, not once a frame; a line said again much later is
kept again. The result
reads like the conversation scrolled past: seance, the finished agent's view and
transcript.txt use it.
"""
from __future__ import annotations

from collections import OrderedDict, deque

from gastown_tui.sessions.rules import normalized

MAX_LINES = 20000  # oldest lines are dropped past this (a day of a chatty agent is well under it)
RECENT = 600  # distinct lines remembered as "seen": a few screens' worth


class ScreenLog:
    def __init__(self, max_lines: int = MAX_LINES, recent: int = RECENT) -> None:
        self.recent = recent
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._recent: "OrderedDict[str, None]" = OrderedDict()  # normalized lines, least recently seen first
        self._last: list[str] | None = None

    def note(self, lines: list[str]) -> None:
        """One screen of the alternate screen (its rows as text)."""
        if lines == self._last:
            return
        self._last = list(lines)
        for line in lines:
            text = line.rstrip()
            if not text.strip():
                continue
            key = normalized([text])
            if not key:
                continue
            if key in self._recent:
                self._recent.move_to_end(key)
                continue
            self._recent[key] = None
            if len(self._recent) > self.recent:
                self._recent.popitem(last=False)
            self._lines.append(text)

    def __len__(self) -> int:
        return len(self._lines)

    def text(self) -> str:
        return "\n".join(self._lines)
