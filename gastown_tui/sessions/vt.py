"""The VT engine interface: what a session and a pane need from a terminal emulator.

One small class hides the emulator. `new_screen()` returns the pyghostty engine
(Ghostty's terminal core) where pyghostty has a wheel and the pyte fallback
elsewhere (see `vt_pyte` for its known gaps). Everything above this module talks
to `VtScreen` only (a session keeps one as `session.screen`). It is not called
`Screen`: that is Textual's, and both meet in the terminal pane.

Rows are handed out as style runs (`Row.runs`), never cell by cell: rendering,
not parsing, is what costs time, so a pane converts only the rows `render()`
reports dirty, at most once per frame.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

# A colour: None (the default), a palette index 0-255, or an (r, g, b) tuple.
Color = "int | tuple[int, int, int] | None"


@dataclass(frozen=True, slots=True)
class Style:
    fg: object = None
    bg: object = None
    underline_color: object = None
    bold: bool = False
    faint: bool = False
    italic: bool = False
    underline: int = 0  # 0 none, 1 single, 2 double, 3 curly, 4 dotted, 5 dashed
    blink: bool = False
    reverse: bool = False
    invisible: bool = False
    strike: bool = False
    overline: bool = False


DEFAULT_STYLE = Style()


@dataclass(frozen=True, slots=True)
class StyleRun:
    text: str
    style: Style
    cells: int  # terminal columns the text covers (a wide char counts 2)


@dataclass(frozen=True, slots=True)
class Row:
    y: int
    runs: tuple[StyleRun, ...]

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass(frozen=True, slots=True)
class Cursor:
    x: int
    y: int
    visible: bool = True


@dataclass(frozen=True, slots=True)
class Frame:
    rows: dict[int, Row]
    cursor: Cursor
    full: bool  # every row is in `rows` (resize, screen switch, viewport scroll)


@dataclass(frozen=True, slots=True)
class Modes:
    mouse: bool = False  # the program asked for mouse reports (?1000/?1002/?1003)
    mouse_sgr: bool = False  # ?1006
    mouse_motion: int = 0  # 0 clicks only, 1 drag (?1002), 2 any motion (?1003)
    bracketed_paste: bool = False  # ?2004
    app_cursor: bool = False  # DECCKM ?1
    alt_screen: bool = False
    focus_events: bool = False  # ?1004


_TITLE_JUNK = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def sanitize_title(title: str, limit: int = 200) -> str:
    """A window title safe to show anywhere: no control characters, bounded length."""
    return _TITLE_JUNK.sub("", title)[:limit]


def scrollback_bytes(cols: int, lines: int) -> int:
    """Byte cap that holds about `lines` lines of `cols` columns in pyghostty's pages."""
    return max(64 * 1024, 9 * max(cols, 80) * max(lines, 1))


class VtScreen:
    """Base class: the attributes every engine provides. Engines override the methods."""

    engine = "abstract"

    def __init__(self, cols: int, rows: int, scrollback_lines: int = 10_000) -> None:
        if cols < 1 or rows < 1:
            raise ValueError(f"terminal size must be at least 1x1, got {cols}x{rows}")
        self.cols = cols
        self.rows = rows
        self.scrollback_lines = scrollback_lines
        self.on_reply: Callable[[bytes], None] | None = None
        self.on_osc: Callable[[int, str], None] | None = None
        self._changed = True  # engines set it whenever what a pane would draw may differ

    def feed(self, data: bytes) -> None:
        raise NotImplementedError

    def resize(self, cols: int, rows: int) -> None:
        raise NotImplementedError

    def lines(self) -> list[str]:
        raise NotImplementedError

    def text(self) -> str:
        lines = self.lines()
        while lines and not lines[-1]:
            lines.pop()
        return "\n".join(lines)

    @property
    def cursor(self) -> Cursor:
        raise NotImplementedError

    @property
    def title(self) -> str:
        raise NotImplementedError

    @property
    def changed(self) -> bool:
        """Whether the screen may have changed since the last `mark_seen`."""
        return self._changed

    def mark_seen(self) -> None:
        self._changed = False

    def render(self, dirty_only: bool = True) -> Frame:
        raise NotImplementedError

    @property
    def modes(self) -> Modes:
        raise NotImplementedError

    @property
    def scrollback_rows(self) -> int:
        raise NotImplementedError

    def history_text(self) -> str:
        raise NotImplementedError

    def scroll_viewport(self, delta: int) -> None:
        raise NotImplementedError

    def scroll_to_bottom(self) -> None:
        raise NotImplementedError

    @property
    def viewport_offset(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        pass


Screen = VtScreen  # its old name, for code from branches in flight; new code says VtScreen


def engine_name() -> str:
    """Which engine `new_screen` uses on this machine."""
    try:
        import pyghostty  # noqa: F401
    except (ImportError, OSError):
        return "pyte"
    return "ghostty"


def new_screen(cols: int = 120, rows: int = 40, scrollback_lines: int = 10_000, engine: str | None = None) -> VtScreen:
    """A fresh terminal screen: pyghostty where it is installed, else pyte.

    The engines are imported here, not at the top, on purpose: each subclasses
    `VtScreen` from this module (so importing one at the top would be a cycle), and
    only one of the two native libraries is installed on a given machine. This is
    the one deliberate import cycle in the tree (tools/import_graph.py knows it)."""
    engine = engine or engine_name()
    if engine == "ghostty":
        from gastown_tui.sessions.vt_ghostty import GhosttyScreen  # deferred: the engine factory (above)

        return GhosttyScreen(cols, rows, scrollback_lines)
    if engine == "pyte":
        from gastown_tui.sessions.vt_pyte import PyteScreen  # deferred: the engine factory (above)

        return PyteScreen(cols, rows, scrollback_lines)
    raise ValueError(f"unknown VT engine {engine!r} (expected 'ghostty' or 'pyte')")
