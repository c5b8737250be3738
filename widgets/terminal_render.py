"""Turns the VT engine's rows (style runs) into Textual strips.

One Rich `Style` per engine `Style`, cached; one `Segment` per run. Default
colours are left unset so the pane's own colours (the theme) show through.
Overlays — the cursor, search matches, a selection — are applied afterwards
to a copy of the cached strip, by cell range, never by re-reading the engine.

Strips are also kept by the row's content (`cached_row_strip`): when output
scrolls, every row is dirty but almost every one shows what another row
showed a frame ago, so its strip is reused, not rebuilt.
"""
from __future__ import annotations

import re
from collections import OrderedDict

from rich.color import Color
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.strip import Strip

from gastown_tui.sessions.vt import Row, Style, StyleRun

# control characters and bidi overrides: never sent to the host terminal
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

_STYLE_CACHE: dict[Style, RichStyle] = {}
_STRIP_CACHE: "OrderedDict[tuple, Strip]" = OrderedDict()
STRIP_CACHE_SIZE = 4096  # rows: a few screens of each of the panes a 9-pane grid shows
_COLOR_CACHE: dict[object, Color] = {}


def _color(value: object) -> Color | None:
    if value is None:
        return None
    color = _COLOR_CACHE.get(value)
    if color is None:
        if isinstance(value, tuple):
            color = Color.from_rgb(*value)
        else:
            color = Color.from_ansi(int(value) & 0xFF)
        _COLOR_CACHE[value] = color
    return color


def rich_style(style: Style) -> RichStyle:
    """The Rich style for an engine style (16/256/true colour and every attribute Rich can show)."""
    cached = _STYLE_CACHE.get(style)
    if cached is not None:
        return cached
    fg, bg = _color(style.fg), _color(style.bg)
    if style.invisible:
        fg = bg if bg is not None else Color.default()
    cached = RichStyle(
        color=fg,
        bgcolor=bg,
        bold=style.bold or None,
        dim=style.faint or None,
        italic=style.italic or None,
        underline=(style.underline in (1, 3, 4, 5)) or None,
        underline2=(style.underline == 2) or None,
        blink=style.blink or None,
        reverse=style.reverse or None,
        strike=style.strike or None,
        overline=style.overline or None,
    )
    if len(_STYLE_CACHE) > 8192:
        _STYLE_CACHE.clear()
    _STYLE_CACHE[style] = cached
    return cached


def row_strip(row: Row | None, width: int, base: RichStyle) -> Strip:
    """One screen row as a strip exactly `width` cells wide, over the pane's `base` style."""
    if row is None or not row.runs:
        return Strip([Segment(" " * width, base)], width)
    segments = [Segment(run.text, base + rich_style(run.style)) for run in row.runs]
    cells = sum(run.cells for run in row.runs)
    strip = Strip(segments)
    if strip.cell_length != cells or cells != width:
        strip = strip.adjust_cell_length(width, base)
    return strip


def cached_row_strip(row: Row | None, width: int, base: RichStyle, clean=None) -> Strip:
    """`row_strip(clean(row), width, base)`, reused while a row with the same runs was converted lately."""
    if row is None:
        return row_strip(None, width, base)
    key = (row.runs, width, base)
    strip = _STRIP_CACHE.get(key)
    if strip is not None:
        _STRIP_CACHE.move_to_end(key)
        return strip
    strip = row_strip(clean(row) if clean is not None else row, width, base)
    _STRIP_CACHE[key] = strip
    if len(_STRIP_CACHE) > STRIP_CACHE_SIZE:
        _STRIP_CACHE.popitem(last=False)
    return strip


def overlay(strip: Strip, start: int, end: int, style: RichStyle) -> Strip:
    """`strip` with `style` applied over its own on cells [start, end)."""
    width = strip.cell_length
    start, end = max(0, start), min(end, width)
    if end <= start:
        return strip
    left, middle, right = strip.divide([start, end, width])
    middle = Strip(Segment.apply_style(list(middle), post_style=style), end - start)
    return Strip.join([left, middle, right])


def char_cells(text: str) -> list[int]:
    """The starting cell of each character of a row's text (wide characters take two cells)."""
    from rich.cells import cell_len

    out, x = [], 0
    for ch in text:
        out.append(x)
        x += cell_len(ch)
    return out


def clean_text(text: str) -> str:
    """Control characters become spaces (they held a cell); bidi overrides (zero width) go."""
    return CONTROL_CHARS.sub(_replacement, text)


def _replacement(m: re.Match) -> str:
    return " " if m.group() < "\u0100" else ""


def clean_row(row: Row | None) -> Row | None:
    """A row with every control character replaced, so no escape can reach the host terminal."""
    if row is None:
        return None
    if not any(CONTROL_CHARS.search(run.text) for run in row.runs):
        return row
    return Row(row.y, tuple(StyleRun(clean_text(r.text), r.style, r.cells) for r in row.runs))
