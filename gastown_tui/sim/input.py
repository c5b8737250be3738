"""Keyboard input for the simulated agent: bytes from the terminal -> key events.

Handles UTF-8 split across reads, bracketed paste (``ESC[200~ … ESC[201~``: the
pasted text is taken literally, newlines included), a lone Esc (interrupt),
Enter, Backspace, Ctrl-C/Ctrl-D/Ctrl-U, and swallows other escape sequences
(arrows, function keys, focus reports).
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass

PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"


@dataclass(frozen=True)
class Key:
    """One input event: kind is text, paste, enter, backspace, esc, ctrl_c, ctrl_d or ctrl_u."""

    kind: str
    text: str = ""


class InputParser:
    """Turns raw terminal input into `Key` events, across arbitrary read boundaries."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""
        self._paste: list[str] | None = None

    def feed(self, data: bytes, final: bool = True) -> list[Key]:
        """Events in `data`. With `final`, a trailing lone ESC counts as the Esc key."""
        self._pending += self._decoder.decode(data)
        events: list[Key] = []
        text: list[str] = []

        def flush_text() -> None:
            if text:
                events.append(Key("text", "".join(text)))
                text.clear()

        s = self._pending
        i = 0
        while i < len(s):
            if self._paste is not None:
                end = s.find(PASTE_END, i)
                if end < 0:
                    # keep a possible partial end marker for the next read
                    keep = next((k for k in range(len(PASTE_END) - 1, 0, -1) if s.endswith(PASTE_END[:k])), 0)
                    self._paste.append(s[i : len(s) - keep])
                    i = len(s) - keep
                    break
                self._paste.append(s[i:end])
                pasted = "".join(self._paste).replace("\r\n", "\n").replace("\r", "\n")  # terminals send CR
                events.append(Key("paste", pasted))
                self._paste = None
                i = end + len(PASTE_END)
                continue
            ch = s[i]
            if ch == "\x1b":
                rest = s[i:]
                if rest.startswith(PASTE_START):
                    flush_text()
                    self._paste = []
                    i += len(PASTE_START)
                    continue
                if len(rest) == 1:
                    if final:
                        flush_text()
                        events.append(Key("esc"))
                        i += 1
                    break
                if rest[1] in "[O":
                    j = i + 2
                    if rest[1] == "[":
                        while j < len(s) and " " <= s[j] <= "?":
                            j += 1
                    if j >= len(s):
                        if not final:
                            break  # the rest of the sequence comes with the next read
                        i = len(s)  # an unfinished sequence at the very end: drop it
                        break
                    i = j + 1  # a complete CSI/SS3 sequence we do not use (arrows, focus, ...)
                    continue
                flush_text()
                events.append(Key("esc"))  # Esc followed by something else (Alt+key): treat as Esc
                i += 1
                continue
            if ch in "\r\n":
                flush_text()
                events.append(Key("enter"))
                if ch == "\r" and i + 1 < len(s) and s[i + 1] == "\n":
                    i += 1
            elif ch in "\x7f\x08":
                flush_text()
                events.append(Key("backspace"))
            elif ch == "\x03":
                flush_text()
                events.append(Key("ctrl_c"))
            elif ch == "\x04":
                flush_text()
                events.append(Key("ctrl_d"))
            elif ch == "\x15":
                flush_text()
                events.append(Key("ctrl_u"))
            elif ch >= " " or ch == "\t":
                text.append(ch)
            i += 1
        self._pending = s[i:]
        flush_text()
        return events
