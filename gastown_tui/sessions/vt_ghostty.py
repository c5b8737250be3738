"""The pyghostty engine (Ghostty's terminal core, libghostty-vt) behind `vt.VtScreen`.

Rows are read in bulk through libghostty's render state: one call for a row's
raw cells (decoded here from the bit layout the library publishes in
`ghostty_type_json`), one style lookup per run of equal style. Scrollback is
capped in bytes, not lines: a line cap makes parsing many times slower
(reference/terminal-engines-full.md §5).

Decoding a row cell by cell is the costly part of a frame, and output that
scrolls marks every row dirty although each is the row below it one frame
ago. So rows whose raw cells fully determine them (no style ids — default
style or background-only cells — and no grapheme clusters) are kept by their
raw bytes and reused; a row with styles is always decoded (its style ids are
local to the page that holds it, so equal bytes need not mean equal styles).
"""
from __future__ import annotations

import json
import time
import weakref
from collections import OrderedDict

from pyghostty import Terminal, ffi, lib
from pyghostty._ffi import union_fn
from pyghostty.core import init_sized

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

# Scroll-viewport takes a tagged union by value; ABI-mode cffi needs a struct twin.
ffi.cdef("typedef struct { int32_t tag; uint64_t v[2]; } GtScrollTwin;")
assert ffi.sizeof("GtScrollTwin") == ffi.sizeof("GhosttyTerminalScrollViewport")
_scroll_fn = ffi.cast("void(*)(GhosttyTerminal, GtScrollTwin)", ffi.addressof(lib, "ghostty_terminal_scroll_viewport"))
_grid_ref_fn = union_fn("ghostty_terminal_grid_ref", "GhosttyResult(*)(GhosttyTerminal, GhosttyPointS, GhosttyGridRef*)")


def _cell_layout() -> dict[str, tuple[int, int]]:
    """(lsb, mask) of the raw cell fields, read from the library's own type manifest."""
    types = json.loads(ffi.string(lib.ghostty_type_json()))["types"]
    bits = types["GhosttyCell"]["bits"]
    cp = bits["content"]["arms"]["CODEPOINT"]["bits"]["codepoint"]
    lay = {name: (bits[name]["lsb"], (1 << bits[name]["width"]) - 1) for name in ("content_tag", "style_id", "wide")}
    lay["codepoint"] = (bits["content"]["lsb"] + cp["lsb"], (1 << cp["width"]) - 1)
    lay["content"] = (bits["content"]["lsb"], (1 << bits["content"]["width"]) - 1)
    return lay


_LAY = _cell_layout()
_TAG_SHIFT, _TAG_MASK = _LAY["content_tag"]
_CP_SHIFT, _CP_MASK = _LAY["codepoint"]
_SID_SHIFT, _SID_MASK = _LAY["style_id"]
_WIDE_SHIFT, _WIDE_MASK = _LAY["wide"]
_CONTENT_SHIFT, _CONTENT_MASK = _LAY["content"]
_TAG_GRAPHEME = lib.GHOSTTY_CELL_CONTENT_CODEPOINT_GRAPHEME
_TAG_BG_PALETTE = lib.GHOSTTY_CELL_CONTENT_BG_COLOR_PALETTE
_TAG_BG_RGB = lib.GHOSTTY_CELL_CONTENT_BG_COLOR_RGB
_WIDE_WIDE = lib.GHOSTTY_CELL_WIDE_WIDE
_WIDE_TAIL = lib.GHOSTTY_CELL_WIDE_SPACER_TAIL
HOLD_LIMIT = 1.0  # seconds a program may hold the screen with synchronized output (?2026)
_CELL_BYTES = ffi.sizeof("GhosttyCell")
ROW_CACHE_SCREENS = 3  # plain rows kept for reuse: this many screens' worth


_FREE_CELLS = lib.ghostty_render_state_row_cells_free
_FREE_ITER = lib.ghostty_render_state_row_iterator_free
_FREE_STATE = lib.ghostty_render_state_free


def _free_handles(state, rows, cells) -> None:
    _FREE_CELLS(cells)
    _FREE_ITER(rows)
    _FREE_STATE(state)


def _check(res: int, what: str) -> None:
    if res:
        raise RuntimeError(f"libghostty-vt: {what} failed with code {res}")


def _color(c) -> object:
    if c.tag == lib.GHOSTTY_STYLE_COLOR_PALETTE:
        return int(c.value.palette)
    if c.tag == lib.GHOSTTY_STYLE_COLOR_RGB:
        return (c.value.rgb.r, c.value.rgb.g, c.value.rgb.b)
    return None


class GhosttyScreen(VtScreen):
    engine = "ghostty"

    def __init__(self, cols: int, rows: int, scrollback_lines: int = 10_000) -> None:
        super().__init__(cols, rows, scrollback_lines)
        # Answers OSC 10/11 colour queries the way a dark xterm does.
        self._term = Terminal(cols, rows, scrollback=2**62, fg=(229, 229, 229), bg=(0, 0, 0))
        self._t = self._term._t[0]
        self._set_byte_cap()
        self._term.on_reply(self._reply)
        self._term.on_unknown_sequence(self._unknown, max_bytes=4096)
        self._changed = True
        self._full_next = True
        self._hold_since: float | None = None
        self._last_cursor = Cursor(0, 0, True)
        self._state = ffi.new("GhosttyRenderState*")
        _check(lib.ghostty_render_state_new(ffi.NULL, self._state), "render_state_new")
        self._iter = ffi.new("GhosttyRenderStateRowIterator*")
        _check(lib.ghostty_render_state_row_iterator_new(ffi.NULL, self._iter), "row_iterator_new")
        self._cells = ffi.new("GhosttyRenderStateRowCells*")
        _check(lib.ghostty_render_state_row_cells_new(ffi.NULL, self._cells), "row_cells_new")
        self._bool = ffi.new("bool*")
        self._dirty = ffi.new("GhosttyRenderStateDirty*")
        self._view = ffi.new("GhosttyCellsView*")
        self._style = ffi.new("GhosttyStyle*")
        self._style.size = ffi.sizeof("GhosttyStyle")
        self._cursor = ffi.new("GhosttyRenderStateCursor*")
        self._cursor.size = ffi.sizeof("GhosttyRenderStateCursor")
        self._gbuf = ffi.new("uint32_t[]", 32)
        self._glen = ffi.new("uint32_t*")
        self._style_cache: dict[bytes, Style] = {}
        # Plain text of the active area (lines(), read by the state rules several times a second): the
        # structures are made once, and the text is kept until the next feed or resize.
        self._point = ffi.new("GhosttyPointS*")
        self._point.tag = lib.GHOSTTY_POINT_TAG_ACTIVE
        self._ref_start = init_sized("GhosttyGridRef")
        self._ref_end = init_sized("GhosttyGridRef")
        self._selection = init_sized("GhosttySelection")
        self._format = init_sized("GhosttyTerminalSelectionFormatOptions")
        self._format.emit = lib.GHOSTTY_FORMATTER_FORMAT_PLAIN
        self._format.unwrap, self._format.trim, self._format.selection = False, True, self._selection
        self._text_buf = ffi.new("uint8_t[]", 4096)
        self._text_len = ffi.new("size_t*")
        self._generation = 0
        self._lines: tuple[int, list[str]] | None = None
        self._row_cache: OrderedDict[bytes, tuple[StyleRun, ...]] = OrderedDict()
        self.rows_decoded = 0
        """Rows decoded cell by cell (for tests and benchmarks); rows reused from the cache do not count."""
        # Freed by a finalizer holding pre-resolved C functions: a __del__ that touches
        # `lib.<name>` can run inside cffi's type-parser lock and deadlock.
        self._finalizer = weakref.finalize(self, _free_handles, self._state[0], self._iter[0], self._cells[0])

    # -- configuration -------------------------------------------------------------------------
    def _set_byte_cap(self) -> None:
        cap = 10 * max(self.cols, 80) * max(self.scrollback_lines, 1) + 256 * 1024
        _check(
            lib.ghostty_terminal_set(self._t, lib.GHOSTTY_TERMINAL_OPT_SCROLLBACK_MAX_BYTES, ffi.new("size_t*", cap)),
            "set scrollback bytes",
        )

    def _reply(self, data: bytes) -> None:
        if self.on_reply is not None:
            self.on_reply(data)

    def _unknown(self, seq) -> None:
        if seq.kind != "osc" or self.on_osc is None:
            return
        num, _, payload = seq.content.partition(b";")
        if num.isdigit():
            self.on_osc(int(num), payload.decode("utf-8", "replace"))

    # -- input ----------------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        if data:
            self._term.feed(data)
            self._changed = True
            self._generation += 1

    def resize(self, cols: int, rows: int) -> None:
        if cols < 1 or rows < 1:
            raise ValueError(f"terminal size must be at least 1x1, got {cols}x{rows}")
        if (cols, rows) == (self.cols, self.rows):
            return
        self._term.resize(cols, rows)
        self.cols, self.rows = cols, rows
        self._set_byte_cap()
        self._changed = True
        self._generation += 1
        self._full_next = True

    # -- reading --------------------------------------------------------------------------------
    def lines(self) -> list[str]:
        cached = self._lines
        if cached is not None and cached[0] == self._generation:
            return list(cached[1])
        out = self._active_text().split("\n")
        out = [line.rstrip() for line in out[: self.rows]]
        out += [""] * (self.rows - len(out))
        self._lines = (self._generation, out)
        return list(out)

    def _active_text(self) -> str:
        """The active area as plain text (what pyghostty's `Terminal.text` gives, without rebuilding its
        structures on every call)."""
        t, point = self._t, self._point
        point.value.x, point.value.y = 0, 0
        _check(_grid_ref_fn(t, point[0], self._ref_start), "grid_ref start")
        point.value.x, point.value.y = self.cols - 1, self.rows - 1
        _check(_grid_ref_fn(t, point[0], self._ref_end), "grid_ref end")
        self._selection.start = self._ref_start[0]
        self._selection.end = self._ref_end[0]
        for _ in range(2):
            buf = self._text_buf
            res = lib.ghostty_terminal_selection_format_buf(t, self._format[0], buf, len(buf), self._text_len)
            if res == lib.GHOSTTY_OUT_OF_SPACE:
                self._text_buf = ffi.new("uint8_t[]", max(self._text_len[0], 2 * len(buf)))
                continue
            _check(res, "format text")
            return ffi.buffer(buf, self._text_len[0])[:].decode("utf-8", "replace")
        raise RuntimeError("libghostty-vt: the screen's text did not fit the buffer it asked for")

    @property
    def cursor(self) -> Cursor:
        x, y = self._term.cursor
        return Cursor(x, y, bool(self._term.get("cursor_visible", "bool")))

    @property
    def title(self) -> str:
        s = self._term.get("title", "GhosttyString")
        raw = ffi.buffer(s.ptr, s.len)[:] if s.len else b""
        return sanitize_title(raw.decode("utf-8", "replace"))

    @property
    def modes(self) -> Modes:
        m = self._term.mode
        motion = 2 if m(1003) else 1 if m(1002) else 0
        return Modes(
            mouse=m(1000) or m(1002) or m(1003) or m(9),
            mouse_sgr=m(1006),
            mouse_motion=motion,
            bracketed_paste=m(2004),
            app_cursor=m(1),
            alt_screen=self._term.get("active_screen", "int") == lib.GHOSTTY_TERMINAL_SCREEN_ALTERNATE,
            focus_events=m(1004),
        )

    @property
    def scrollback_rows(self) -> int:
        return int(self._term.get("scrollback_rows", "size_t"))

    def history_text(self) -> str:
        return self._term.contents()

    def scroll_viewport(self, delta: int) -> None:
        twin = ffi.new("GtScrollTwin*")
        twin.tag = lib.GHOSTTY_SCROLL_VIEWPORT_DELTA
        twin.v[0] = delta & 0xFFFFFFFFFFFFFFFF  # intptr_t, two's complement
        _scroll_fn(self._t, twin[0])
        self._changed = True
        self._full_next = True

    def scroll_to_bottom(self) -> None:
        twin = ffi.new("GtScrollTwin*")
        twin.tag = lib.GHOSTTY_SCROLL_VIEWPORT_BOTTOM
        _scroll_fn(self._t, twin[0])
        self._changed = True
        self._full_next = True

    @property
    def viewport_offset(self) -> int:
        bar = self._term.get("scrollbar", "GhosttyTerminalScrollbar")
        return int(bar.total - bar.offset - bar.len)

    # -- rendering ------------------------------------------------------------------------------
    def render(self, dirty_only: bool = True) -> Frame:
        # Synchronized output (?2026, Codex wraps every frame in it): keep showing the last
        # frame until the program ends its update, at most HOLD_LIMIT seconds.
        if self._term.mode(2026):
            now = time.monotonic()
            if self._hold_since is None:
                self._hold_since = now
            if now - self._hold_since < HOLD_LIMIT:
                return Frame({}, self._last_cursor, False)
        else:
            self._hold_since = None
        st = self._state[0]
        _check(lib.ghostty_render_state_update(st, self._t), "render_state_update")
        _check(lib.ghostty_render_state_get(st, lib.GHOSTTY_RENDER_STATE_DATA_DIRTY, self._dirty), "get dirty")
        full = (not dirty_only) or self._full_next or self._dirty[0] == lib.GHOSTTY_RENDER_STATE_DIRTY_FULL
        rows: dict[int, Row] = {}
        if full or self._dirty[0] != lib.GHOSTTY_RENDER_STATE_DIRTY_FALSE:
            _check(lib.ghostty_render_state_get(st, lib.GHOSTTY_RENDER_STATE_DATA_ROW_ITERATOR, self._iter), "rows")
            it = self._iter[0]
            y = 0
            while lib.ghostty_render_state_row_iterator_next(it):
                if not full:
                    lib.ghostty_render_state_row_get(it, lib.GHOSTTY_RENDER_STATE_ROW_DATA_DIRTY, self._bool)
                if full or self._bool[0]:
                    rows[y] = self._read_row(it, y)
                y += 1
        _check(lib.ghostty_render_state_get(st, lib.GHOSTTY_RENDER_STATE_DATA_CURSOR, self._cursor), "cursor")
        c = self._cursor
        cursor = Cursor(c.viewport_x, c.viewport_y, bool(c.visible)) if c.viewport_has_value else Cursor(0, 0, False)
        lib.ghostty_render_state_clean(st)
        self._full_next = False
        self._changed = False
        self._last_cursor = cursor
        return Frame(rows, cursor, full)

    def _read_row(self, it, y: int) -> Row:
        _check(lib.ghostty_render_state_row_get(it, lib.GHOSTTY_RENDER_STATE_ROW_DATA_CELLS_RAW, self._view), "cells")
        view = self._view
        key = ffi.buffer(view.ptr, view.len * _CELL_BYTES)[:]
        cache = self._row_cache
        runs = cache.get(key)
        if runs is not None:
            cache.move_to_end(key)
            return Row(y, runs)
        row, plain = self._decode_row(it, y, ffi.unpack(view.ptr, view.len))
        self.rows_decoded += 1
        if plain:
            cache[key] = row.runs
            if len(cache) > ROW_CACHE_SCREENS * self.rows:
                cache.popitem(last=False)
        return row

    def _decode_row(self, it, y: int, raw: list[int]) -> tuple[Row, bool]:
        """The row's style runs from its raw cells, and whether the raw cells alone determined them."""
        cells_loaded = False
        runs: list[StyleRun] = []
        chars: list[str] = []
        run_key = None
        run_style = DEFAULT_STYLE
        run_cells = 0
        for x, cell in enumerate(raw):
            wide = (cell >> _WIDE_SHIFT) & _WIDE_MASK
            if wide == _WIDE_TAIL:
                continue
            tag = (cell >> _TAG_SHIFT) & _TAG_MASK
            key: tuple[str, int, int] | int     # a background-only cell's colour, or the style id
            if tag >= _TAG_BG_PALETTE:
                key = ("bg", tag, (cell >> _CONTENT_SHIFT) & _CONTENT_MASK)
                ch = " "
            else:
                key = (cell >> _SID_SHIFT) & _SID_MASK
                cp = (cell >> _CP_SHIFT) & _CP_MASK
                ch = chr(cp) if cp else " "
                if tag == _TAG_GRAPHEME:
                    if not cells_loaded:
                        self._load_cells(it)
                        cells_loaded = True
                    ch = self._grapheme(x) or ch
            if key != run_key:
                if chars:
                    runs.append(StyleRun("".join(chars), run_style, run_cells))
                    chars, run_cells = [], 0
                run_key = key
                if isinstance(key, tuple):
                    run_style = self._bg_style(tag, key[2])
                elif key == 0:
                    run_style = DEFAULT_STYLE
                else:
                    if not cells_loaded:
                        self._load_cells(it)
                        cells_loaded = True
                    run_style = self._style_at(x)
            chars.append(ch)
            run_cells += 2 if wide == _WIDE_WIDE else 1
        if chars:
            runs.append(StyleRun("".join(chars), run_style, run_cells))
        return Row(y, tuple(runs)), not cells_loaded

    def _load_cells(self, it) -> None:
        _check(lib.ghostty_render_state_row_get(it, lib.GHOSTTY_RENDER_STATE_ROW_DATA_CELLS, self._cells), "row cells")

    def _grapheme(self, x: int) -> str:
        cells = self._cells[0]
        lib.ghostty_render_state_row_cells_select(cells, x)
        lib.ghostty_render_state_row_cells_get(cells, lib.GHOSTTY_RENDER_STATE_ROW_CELLS_DATA_GRAPHEMES_LEN, self._glen)
        n = min(self._glen[0], 32)
        if not n:
            return ""
        lib.ghostty_render_state_row_cells_get(cells, lib.GHOSTTY_RENDER_STATE_ROW_CELLS_DATA_GRAPHEMES_BUF, self._gbuf)
        return "".join(chr(c) for c in ffi.unpack(self._gbuf, n))

    def _style_at(self, x: int) -> Style:
        cells = self._cells[0]
        lib.ghostty_render_state_row_cells_select(cells, x)
        _check(lib.ghostty_render_state_row_cells_get(cells, lib.GHOSTTY_RENDER_STATE_ROW_CELLS_DATA_STYLE, self._style), "style")
        key = ffi.buffer(self._style)[:]
        style = self._style_cache.get(key)
        if style is None:
            s = self._style
            style = Style(
                fg=_color(s.fg_color),
                bg=_color(s.bg_color),
                underline_color=_color(s.underline_color),
                bold=bool(s.bold),
                faint=bool(s.faint),
                italic=bool(s.italic),
                underline=int(s.underline),
                blink=bool(s.blink),
                reverse=bool(s.inverse),
                invisible=bool(s.invisible),
                strike=bool(s.strikethrough),
                overline=bool(s.overline),
            )
            if len(self._style_cache) > 4096:
                self._style_cache.clear()
            self._style_cache[key] = style
        return style

    @staticmethod
    def _bg_style(tag: int, content: int) -> Style:
        if tag == _TAG_BG_PALETTE:
            return Style(bg=content & 0xFF)
        return Style(bg=(content & 0xFF, (content >> 8) & 0xFF, (content >> 16) & 0xFF))

    def close(self) -> None:
        """Frees the native handles now (garbage collection does it otherwise)."""
        self._finalizer()
