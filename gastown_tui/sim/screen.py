"""What the simulated agent draws: plain ANSI, inline on the main screen.

The layout copies the shape of a real coding agent (Claude Code): a banner, a
scrolling transcript, and a live area at the bottom that is erased and redrawn
in place — a spinner line with ``esc to interrupt`` while working, the input
prompt ``❯``, and a footer that always says the agent is SIMULATED.

Screen markers other code may rely on (state rules, tests):
- working: a line containing ``esc to interrupt``; window title starts ``⠂ sim``
- idle: the footer contains ``· idle``; window title starts ``✳ sim``
- needs approval: ``QUESTION (y/n)`` above the prompt, footer ``· needs approval``, title ``? sim``
- failed: the footer contains ``· failed``; hung: nothing changes at all
- every screen shows ``SIMULATED``
"""
from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections import deque

HISTORY_LINES = 500
SPINNER = "✢✳✶✻✽✻✶✳"
ORANGE = "\x1b[38;2;215;119;87m"
DIM = "\x1b[2m"
BOLD = "\x1b[1m"
GREEN = "\x1b[32m"
RED = "\x1b[31m"
CYAN = "\x1b[36m"
GREY_BG = "\x1b[48;5;236m"
RESET = "\x1b[0m"


def cell_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1 for ch in text)


def clip(text: str, width: int) -> str:
    """Cuts plain `text` to at most `width` cells."""
    out, used = [], 0
    for ch in text:
        w = cell_width(ch)
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "".join(out)


class SimScreen:
    """Writes the simulated agent's screen to a file descriptor."""

    def __init__(self, fd: int, agent: str, cwd: str):
        self.fd = fd
        self.agent = agent
        self.cwd = cwd
        self.live_rows = 0  # rows of the live area above the cursor's row
        self.frame = 0
        self.hidden = False  # a hung agent draws nothing at all
        self.history: deque[str] = deque(maxlen=HISTORY_LINES)  # transcript lines, for a redraw on resize
        self._pending: list[str] = []

    # -- low level -------------------------------------------------------
    def width(self) -> int:
        try:
            return max(20, os.get_terminal_size(self.fd).columns)
        except OSError:
            return max(20, shutil.get_terminal_size().columns)

    def write(self, text: str) -> None:
        """Queues output; `flush` sends it in one write, so a reader never sees half a frame."""
        self._pending.append(text)

    def flush(self) -> None:
        if not self._pending:
            return
        data = "".join(self._pending).encode("utf-8", "replace")
        self._pending.clear()
        while data:
            try:
                n = os.write(self.fd, data)
            except BlockingIOError:
                continue
            except OSError:
                return  # the terminal went away; the main loop notices on read
            data = data[n:]

    def title(self, text: str) -> None:
        self.write(f"\x1b]0;{text}\x07")

    def start(self) -> None:
        self.write("\x1b[?2004h")  # bracketed paste, as real agents ask for it
        self.banner()

    def stop(self) -> None:
        self._erase_live()
        self.write("\x1b[?2004l\x1b[0m\r\n")
        self.flush()

    # -- transcript --------------------------------------------------------
    def banner(self) -> None:
        w = min(self.width(), 78) - 2
        lines = [
            f"{ORANGE}✻{RESET} {BOLD}gastown sim agent{RESET} — {BOLD}SIMULATED{RESET}: no model, scripted by the bead",
            f"  agent: {self.agent}",
            f"  cwd:   {self.cwd}",
            f"  {DIM}type 'gt prime' to re-read the hook · /help · /exit{RESET}",
        ]
        out = [f"{ORANGE}╭{'─' * w}╮{RESET}"]
        for line in lines:
            plain = _strip_sgr(line)
            shown = line if cell_width(plain) <= w - 1 else clip(plain, w - 1)
            pad = max(0, w - 1 - cell_width(_strip_sgr(shown)))
            out.append(f"{ORANGE}│{RESET} {shown}{' ' * pad}{ORANGE}│{RESET}")
        out.append(f"{ORANGE}╰{'─' * w}╯{RESET}")
        self.write("\r\n".join(out) + "\r\n\r\n")

    def line(self, text: str, live: "LiveArea | None" = None) -> None:
        """Adds one transcript line above the live area (redrawing it after)."""
        if self.hidden:
            return
        self._erase_live()
        self.history.append(text)
        self.write(text.replace("\n", "\r\n") + "\x1b[0m\r\n")
        if live is not None:
            self.draw(live)

    def redraw(self, live: "LiveArea") -> None:
        """After a resize: the terminal reflowed what we drew, so clear it all and draw it again."""
        if self.hidden:
            return
        self.live_rows = 0
        self.write("\x1b[H\x1b[2J\x1b[3J")
        self.banner()
        for text in self.history:
            self.write(text.replace("\n", "\r\n") + "\x1b[0m\r\n")
        self.draw(live)

    # -- live area ---------------------------------------------------------
    def _erase_live(self) -> None:
        if self.live_rows:
            self.write(f"\x1b[{self.live_rows}A")
        self.write("\r\x1b[J")
        self.live_rows = 0

    def draw(self, live: "LiveArea") -> None:
        if self.hidden:
            return
        w = self.width() - 1
        rows: list[str] = []
        if live.working:
            glyph = SPINNER[self.frame % len(SPINNER)]
            self.frame += 1
            rows.append(f"{ORANGE}{glyph}{RESET} {clip(live.activity + '…', w - 32)} "
                        f"{DIM}({live.elapsed:.0f}s · esc to interrupt){RESET}")
            rows.append("")
        elif live.question:
            rows.append(f"{ORANGE}?{RESET} {BOLD}{clip(live.question, w - 10)}{RESET} (y/n)")
            rows.append("")
        shown = live.input.replace("\r", " ").replace("\n", " ").replace("\t", " ")  # one row, always
        prompt_text = shown[-(w - 4):] if cell_width(shown) > w - 4 else shown
        rows.append(f"{DIM}{'─' * w}{RESET}")
        rows.append(f"{BOLD}❯{RESET} {prompt_text}")
        footer = f"  SIMULATED agent (no model) · {self.agent} · {live.status}"
        rows.append(f"{DIM}{clip(footer, w)}{RESET}")
        self._erase_live()
        self.write("\r\n".join(rows))
        # park the cursor at the end of the input, one row above the footer
        col = 2 + cell_width(prompt_text)
        self.write(f"\x1b[1A\r\x1b[{col}C" if col else "\x1b[1A\r")
        self.live_rows = len(rows) - 2


class LiveArea:
    """What the bottom of the screen shows right now."""

    def __init__(self) -> None:
        self.working = False
        self.activity = ""
        self.started = 0.0
        self.now = 0.0
        self.input = ""
        self.status = "idle"
        self.question = ""  # a `sim: ask` question waiting for y/n

    @property
    def elapsed(self) -> float:
        return max(0.0, self.now - self.started)


def _strip_sgr(text: str) -> str:
    return _SGR.sub("", text)


_SGR = re.compile(r"\x1b\[[0-9;]*m")
