"""The pyte fallback behind `vt.VtScreen`, for platforms where pyghostty has no wheel
(Intel macOS, Windows, 32-bit and other Linux machines).

pyte is pure Python: 100x slower than pyghostty and far from tmux on modern
programs. Known gaps (measured in reference/terminal-engines-full.md; they are
real, and they are why this is only a fallback):

- no alternate screen: vim, less, htop and every pager leave their screen behind
  when they exit (47/1049 are ignored);
- SU/SD (`CSI n S` / `CSI n T`) are ignored, so ncurses programs such as htop
  corrupt their process list; REP (`CSI n b`) is ignored;
- DECSTBM does not home the cursor; DECAWM off still wraps at the last column;
- a wide character at the right margin is not wrapped; emoji with VS16 (`⚠️`)
  and ZWJ sequences cut the rest of the line; combining accents are NFC-composed;
- colon-form SGR (`38:2::R:G:B`, curly underline `4:3`) and DCS strings print
  as text; kitty keyboard pushes (`CSI > 1 u`) print a stray `u`;
- ED 3 clears the screen instead of the scrollback;
- only DA1 and cursor-position reports are answered: no DA2, no OSC 10/11
  colour replies, no XTVERSION;
- 256-colour indexes come back as RGB; underline styles collapse to single;
- `CSI ? 4 m` (vim 9) and `CSI > 4 ; … m` (Gemini CLI) crash pyte's own SGR
  handler; they are swallowed here;
- scrollback is kept here (pyte.HistoryScreen takes 58-338 MB per pane), as
  converted rows in a bounded deque, for the main screen only.
"""
from __future__ import annotations

import re
from collections import deque

import pyte

from gastown_tui.sessions.vt import (
    DEFAULT_STYLE,
    Cursor,
    Frame,
    Modes,
    Row,
    Style,
    StyleRun,
    VtScreen,
    sanitize_title,
)

_NAMES = {name: i for i, name in enumerate(
    ["black", "red", "green", "brown", "blue", "magenta", "cyan", "white"])}
_NAMES.update({"yellow": 3})
_OSC = re.compile(rb"\x1b\](\d+);([^\x07\x1b]*)(?:\x07|\x1b\\)")


def _color(value: str) -> object:
    if value == "default":
        return None
    if value in _NAMES:
        return _NAMES[value]
    if value.startswith("bright") and value[6:] in _NAMES:
        return _NAMES[value[6:]] + 8
    if len(value) == 6:
        try:
            return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))
        except ValueError:
            return None
    return None


class _PyteScreen(pyte.Screen):
    """pyte.Screen that survives the private SGR forms and keeps main-screen scrollback."""

    def __init__(self, columns: int, lines: int, owner: "PyteScreen") -> None:
        self._owner = owner
        super().__init__(columns, lines)

    def select_graphic_rendition(self, *attrs, private=False, **kwargs):
        if private:  # CSI ? 4 m (XTQMODKEYS) / CSI > 4 ; 2 m (modifyOtherKeys): not styling
            return
        super().select_graphic_rendition(*attrs)

    def write_process_input(self, data: str) -> None:
        self._owner._reply(data)       # the terminal's answers (DA, DSR...) go back to the program

    def index(self):
        top, bottom = self.margins or pyte.screens.Margins(0, self.lines - 1)
        if self.cursor.y == bottom and top == 0:
            self._owner._push_history(self.buffer[0])
        super().index()


class PyteScreen(VtScreen):
    engine = "pyte"

    def __init__(self, cols: int, rows: int, scrollback_lines: int = 10_000) -> None:
        super().__init__(cols, rows, scrollback_lines)
        self._history: deque[Row] = deque(maxlen=max(1, scrollback_lines))
        self._screen = _PyteScreen(cols, rows, self)
        self._stream = pyte.ByteStream(self._screen)
        self._changed = True
        self._full_next = True
        self._offset = 0
        self._osc_tail = b""

    def _reply(self, data: str) -> None:
        if self.on_reply is not None:
            self.on_reply(data.encode())

    def _push_history(self, line) -> None:
        self._history.append(self._row_from(0, line))
        if self._offset:
            self._offset = min(self._offset + 1, len(self._history))

    def feed(self, data: bytes) -> None:
        if not data:
            return
        if self.on_osc is not None and b"\x1b]" in self._osc_tail + data:
            buf = self._osc_tail + data
            for m in _OSC.finditer(buf):
                num = int(m.group(1))
                if num not in (0, 1, 2):
                    self.on_osc(num, m.group(2).decode("utf-8", "replace"))
            cut = buf.rfind(b"\x1b]")
            self._osc_tail = buf[cut:][-512:] if cut != -1 and not _OSC.search(buf[cut:]) else b""
        self._stream.feed(data)
        self._changed = True

    def resize(self, cols: int, rows: int) -> None:
        if cols < 1 or rows < 1:
            raise ValueError(f"terminal size must be at least 1x1, got {cols}x{rows}")
        self._screen.resize(rows, cols)
        self.cols, self.rows = cols, rows
        self._changed = self._full_next = True

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self._screen.display]

    @property
    def cursor(self) -> Cursor:
        c = self._screen.cursor
        return Cursor(min(c.x, self.cols - 1), c.y, not c.hidden)

    @property
    def title(self) -> str:
        return sanitize_title(self._screen.title)

    @property
    def modes(self) -> Modes:
        mode = self._screen.mode

        def private(n: int) -> bool:
            return (n << 5) in mode

        return Modes(
            mouse=private(1000) or private(1002) or private(1003),
            mouse_sgr=private(1006),
            mouse_motion=2 if private(1003) else 1 if private(1002) else 0,
            bracketed_paste=private(2004),
            app_cursor=private(1),
            alt_screen=False,  # not supported by pyte
            focus_events=private(1004),
        )

    @property
    def scrollback_rows(self) -> int:
        return len(self._history)

    def history_text(self) -> str:
        rows = [r.text.rstrip() for r in self._history] + self.lines()
        while rows and not rows[-1]:
            rows.pop()
        return "\n".join(rows)

    def scroll_viewport(self, delta: int) -> None:
        self._offset = max(0, min(len(self._history), self._offset - delta))
        self._changed = self._full_next = True

    def scroll_to_bottom(self) -> None:
        self._offset = 0
        self._changed = self._full_next = True

    @property
    def viewport_offset(self) -> int:
        return self._offset

    def _row_from(self, y: int, line) -> Row:
        runs: list[StyleRun] = []
        chars: list[str] = []
        cells = 0
        style = None
        x = 0
        while x < self.cols:
            ch = line[x]
            st = Style(fg=_color(ch.fg), bg=_color(ch.bg), bold=ch.bold, italic=ch.italics,
                       underline=1 if ch.underscore else 0, blink=ch.blink, reverse=ch.reverse,
                       strike=ch.strikethrough)
            if st != style:
                if chars and style is not None:     # chars were taken under `style`
                    runs.append(StyleRun("".join(chars), style, cells))
                chars, cells, style = [], 0, st
            data = ch.data or " "
            chars.append(data)
            width = 2 if x + 1 < self.cols and line[x + 1].data == "" else 1
            cells += width
            x += width
        if chars:
            runs.append(StyleRun("".join(chars), style or DEFAULT_STYLE, cells))
        return Row(y, tuple(runs))

    def render(self, dirty_only: bool = True) -> Frame:
        full = (not dirty_only) or self._full_next or self._offset > 0
        rows: dict[int, Row] = {}
        if self._offset:
            live = [self._row_from(y, self._screen.buffer[y]) for y in range(self.rows)]
            combined = list(self._history) + live
            view = combined[len(combined) - self.rows - self._offset: len(combined) - self._offset]
            rows = {y: Row(y, r.runs) for y, r in enumerate(view)}
            cursor = Cursor(0, 0, False)
        else:
            ys = range(self.rows) if full else sorted(y for y in self._screen.dirty if 0 <= y < self.rows)
            rows = {y: self._row_from(y, self._screen.buffer[y]) for y in ys}
            cursor = self.cursor
        self._screen.dirty.clear()
        self._full_next = False
        self._changed = False
        return Frame(rows, cursor, full)
