"""An agent's screen, as the town server streams it (docs/protocol.md "Screens": `style` and `screen`
events of changed rows), drawn on a plain terminal with ANSI: each changed row is repainted in place,
cropped to the terminal; the cursor and the input modes (application cursor keys, bracketed paste,
mouse reports, focus events) follow the agent's, so the terminal's keys reach it as it expects them."""
from __future__ import annotations

import unicodedata

MODE_FLAGS = {"app_cursor": "1", "bracketed_paste": "2004", "focus_events": "1004"}


def char_cells(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def _color(value, base: int) -> str | None:
    """SGR parameters for a colour: a palette index (int) or [r, g, b]."""
    if value is None:
        return None
    if isinstance(value, int):
        return f"{base};5;{value}"
    if isinstance(value, (list, tuple)) and len(value) == 3:
        r, g, b = (int(v) for v in value)
        return f"{base};2;{r};{g};{b}"
    return None


def sgr(style: dict) -> str:
    """The escape sequence selecting STYLE (a protocol style: only the fields that differ from plain)."""
    params = ["0"]
    for key, code in (("bold", "1"), ("faint", "2"), ("italic", "3"), ("blink", "5"), ("reverse", "7"),
                      ("invisible", "8"), ("strike", "9"), ("overline", "53")):
        if style.get(key):
            params.append(code)
    underline = style.get("underline") or 0
    if underline:
        params.append("4" if underline == 1 else f"4:{underline}")
    for key, base in (("fg", 38), ("bg", 48), ("underline_color", 58)):
        c = _color(style.get(key), base)
        if c:
            params.append(c)
    return "\x1b[" + ";".join(params) + "m"


class AnsiScreen:
    """The rows of one agent's screen as last received, and the ANSI that brings a terminal up to date."""

    def __init__(self, cols: int, rows: int) -> None:
        self.term_cols, self.term_rows = cols, rows
        self.styles: dict[int, str] = {}
        self.rows: dict[int, list] = {}
        self.cols = self.height = 0
        self.cursor = [0, 0, False]
        self.modes: dict = {}
        self.title = ""
        self.exited = False
        self.exit_status = None

    def style(self, event: dict) -> None:
        self.styles[int(event["id"])] = sgr(event.get("style") or {})

    def resize_terminal(self, cols: int, rows: int) -> str:
        """The terminal changed size: everything is drawn again."""
        self.term_cols, self.term_rows = cols, rows
        return self.redraw()

    def apply(self, event: dict) -> str:
        """The ANSI for a `screen` event (a full frame clears first)."""
        self.cols, self.height = int(event.get("cols", self.cols)), int(event.get("rows", self.height))
        changed = {int(y): runs for y, runs in (event.get("rows_changed") or {}).items()}
        if event.get("full"):
            self.rows = changed
        else:
            self.rows.update(changed)
        self.cursor = list(event.get("cursor") or self.cursor)
        self.title = event.get("title") or ""
        self.exited = bool(event.get("exited"))
        self.exit_status = event.get("exit_status")
        out = [self._modes(event.get("modes") or {})]
        if event.get("full"):
            out.append("\x1b[0m\x1b[2J")
            ys = range(min(self.height, self.term_rows))
        else:
            ys = sorted(y for y in changed if y < self.term_rows)
        out += [self._row(y) for y in ys]
        out.append(self._cursor())
        return "\x1b[?2026h" + "".join(out) + "\x1b[?2026l"

    def redraw(self) -> str:
        out = ["\x1b[0m\x1b[2J"]
        out += [self._row(y) for y in range(min(self.height, self.term_rows))]
        out.append(self._cursor())
        return "\x1b[?2026h" + "".join(out) + "\x1b[?2026l"

    def _row(self, y: int) -> str:
        parts = [f"\x1b[{y + 1};1H"]
        room = self.term_cols
        for run in self.rows.get(y, ()):
            text, sid, cells = run[0], run[1], run[2]
            if room <= 0:
                break
            if cells > room:
                kept, used = [], 0
                for ch in text:
                    w = char_cells(ch)
                    if used + w > room:
                        break
                    kept.append(ch)
                    used += w
                text, cells = "".join(kept), used
            parts.append(self.styles.get(sid, "\x1b[0m"))
            parts.append(text)
            room -= cells
        parts.append("\x1b[0m")
        if room > 0:
            parts.append("\x1b[K")
        return "".join(parts)

    def _cursor(self) -> str:
        x, y, visible = (self.cursor + [0, 0, False])[:3]
        if not visible or y >= self.term_rows or x >= self.term_cols:
            return "\x1b[?25l"
        return f"\x1b[{y + 1};{x + 1}H\x1b[?25h"

    def _modes(self, modes: dict) -> str:
        out = []
        for key, number in MODE_FLAGS.items():
            if bool(modes.get(key)) != bool(self.modes.get(key)):
                out.append(f"\x1b[?{number}{'h' if modes.get(key) else 'l'}")
        mouse_old = (self.modes.get("mouse"), self.modes.get("mouse_motion"), self.modes.get("mouse_sgr"))
        mouse_new = (modes.get("mouse"), modes.get("mouse_motion"), modes.get("mouse_sgr"))
        if mouse_new != mouse_old:
            out.append("\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l")
            if modes.get("mouse"):
                out.append({0: "\x1b[?1000h", 1: "\x1b[?1002h", 2: "\x1b[?1003h"}.get(modes.get("mouse_motion") or 0,
                                                                                   "\x1b[?1000h"))
                if modes.get("mouse_sgr"):
                    out.append("\x1b[?1006h")
        self.modes = dict(modes)
        return "".join(out)

    @staticmethod
    def reset_modes() -> str:
        """Everything the attach may have turned on in the terminal, off again."""
        return "\x1b[?1l\x1b[?2004l\x1b[?1004l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[0m\x1b[?25h"


class DetachKeys:
    """Splits what the user types into bytes for the agent and the detach key: ctrl+b then d (like tmux).
    ctrl+b twice sends one ctrl+b; ctrl+b then any other key sends both."""

    PREFIX = 0x02
    DETACH = (ord("d"), ord("D"), 0x04)

    def __init__(self) -> None:
        self.pending = False

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        out = bytearray()
        for b in data:
            if self.pending:
                self.pending = False
                if b in self.DETACH:
                    return bytes(out), True
                out.append(self.PREFIX)
                if b != self.PREFIX:
                    out.append(b)
            elif b == self.PREFIX:
                self.pending = True
            else:
                out.append(b)
        return bytes(out), False
