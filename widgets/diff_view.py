"""A diff viewer: unified or side by side, syntax-highlighted, drawn line by line.

Uses Textual's line API: `render_line(y)` draws one row from a cache of
rendered strips, and `show_file()` refreshes only the rows whose content
changed, so an updated diff redraws only its changed lines.
"""
from __future__ import annotations

from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Span, Text
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from widgets.diff_model import DiffLine, FileDiff, side_by_side

NUM = 5


@lru_cache(maxsize=64)
def _lexer_for(path: str) -> str:
    from pygments.lexers import get_lexer_for_filename
    from pygments.util import ClassNotFound

    try:
        return get_lexer_for_filename(path).aliases[0]
    except (ClassNotFound, IndexError):
        return "text"


def _no_background(style) -> Style:
    style = Style.parse(style) if isinstance(style, str) else style
    return Style(color=style.color, bold=style.bold, italic=style.italic, underline=style.underline)


@lru_cache(maxsize=8192)
def _highlight_cached(code: str, lexer: str) -> Text:
    text = Syntax(code, lexer, theme="monokai").highlight(code)
    text.rstrip()
    text.spans = [Span(sp.start, sp.end, _no_background(sp.style)) for sp in text.spans]
    text.style = ""
    return text


def _highlight(code: str, lexer: str) -> Text:
    """One line of code, syntax-coloured, with no background of its own (the diff colours it)."""
    return _highlight_cached(code, lexer).copy()


class DiffView(ScrollView, can_focus=True):
    """Shows one file of a diff.

    | Class | Description |
    | :- | :- |
    | `diff-view--added` | an added line (its background) |
    | `diff-view--removed` | a removed line (its background) |
    | `diff-view--added-mark` | the `+` of an added line |
    | `diff-view--removed-mark` | the `-` of a removed line |
    | `diff-view--hunk` | a hunk header (`@@ ... @@`) |

    The defaults below use Textual's palette; the app's style sheet (themes/app.tcss) sets them from the
    theme's `$diff-*` variables. A theme switch clears the strip cache (`notify_style_update`): no redraw
    by hand.
    """

    COMPONENT_CLASSES = {"diff-view--added", "diff-view--removed", "diff-view--added-mark",
                         "diff-view--removed-mark", "diff-view--hunk"}
    DEFAULT_CSS = """
    DiffView { height: 1fr; overflow-x: hidden; }
    DiffView > .diff-view--added { background: $success 20%; }
    DiffView > .diff-view--removed { background: $error 20%; }
    DiffView > .diff-view--added-mark { color: $success; text-style: bold; }
    DiffView > .diff-view--removed-mark { color: $error; text-style: bold; }
    DiffView > .diff-view--hunk { color: $accent; text-style: bold; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.mode = "unified"
        self.file: FileDiff | None = None
        self._rows: list[tuple] = []
        self._cache: dict[tuple, Strip] = {}
        self.redrawn_rows: list[int] = []  # rows refreshed by the last show_file (for tests and benchmarks)

    def show_file(self, file: FileDiff | None, mode: str | None = None) -> None:
        if mode:
            self.mode = mode
        self.file = file
        old_rows = self._rows
        if file is None:
            new_rows: list[tuple] = []
        elif self.mode == "unified":
            new_rows = [("u", line) for line in file.lines]
        else:
            new_rows = [("s", left, right) for left, right in side_by_side(file.lines)]
        lexer = _lexer_for(file.path) if file else "text"
        new_rows = [(lexer, *row) for row in new_rows]
        self._rows = new_rows
        self.virtual_size = Size(0, len(new_rows))
        changed = [y for y in range(max(len(old_rows), len(new_rows)))
                   if y >= len(old_rows) or y >= len(new_rows) or old_rows[y] != new_rows[y]]
        self.redrawn_rows = changed
        width = self.size.width or 1
        for y in changed:
            self.refresh(Region(0, y - self.scroll_offset.y, width, 1))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def _styles(self) -> dict[str, Style]:
        def part(name: str) -> Style:
            return self.get_component_rich_style(f"diff-view--{name}", partial=True)

        return {
            "add": part("added"),
            "del": part("removed"),
            "add-mark": part("added-mark"),
            "del-mark": part("removed-mark"),
            "hunk": part("hunk"),
            "meta": Style(dim=True),
            "ctx": Style(),
        }

    def _code(self, lexer: str, line: DiffLine, width: int, styles: dict[str, Style]) -> Text:
        if line.kind in ("hunk", "meta"):
            text = Text(line.text, style=styles[line.kind])
        else:
            text = _highlight(line.text, lexer)
            text.stylize(styles[line.kind])
        text.truncate(max(1, width), overflow="ellipsis")
        return text

    def _side(self, lexer: str, line: DiffLine | None, width: int, styles, left: bool) -> Text:
        text = Text()
        if line is None:
            text.append(" " * width)
            return text
        number = line.old if left else line.new
        mark = {"add": "+", "del": "-"}.get(line.kind, " ")
        text.append(f"{number:>{NUM}} " if number is not None else " " * (NUM + 1), style="dim")
        text.append(mark, style=styles.get(f"{line.kind}-mark", ""))
        text.append_text(self._code(lexer, line, width - NUM - 2, styles))
        text.pad_right(width - text.cell_len)
        text.truncate(width)
        return text

    def render_line(self, y: int) -> Strip:
        scroll_y = self.scroll_offset.y
        index = scroll_y + y
        width = self.size.width
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        row = self._rows[index]
        key = (row, width)
        strip = self._cache.get(key)
        if strip is None:
            styles = self._styles()
            lexer = row[0]
            if row[1] == "u":
                line: DiffLine = row[2]
                text = Text()
                mark = {"add": "+", "del": "-"}.get(line.kind, " ")
                text.append(f"{line.old if line.old is not None else '':>{NUM}} "
                            f"{line.new if line.new is not None else '':>{NUM}} ", style="dim")
                text.append(mark, style=styles.get(f"{line.kind}-mark", ""))
                text.append_text(self._code(lexer, line, width - 2 * NUM - 3, styles))
            else:
                half = max(10, (width - 1) // 2)
                text = self._side(lexer, row[2], half, styles, True)
                text.append("│", style="dim")
                text.append_text(self._side(lexer, row[3], half, styles, False))
            segments = list(Segment.apply_style(text.render(self.app.console, end=""), self.rich_style))
            strip = Strip(segments).crop(0, width).extend_cell_length(width, self.rich_style)
            if len(self._cache) > 4000:
                self._cache.clear()
            self._cache[key] = strip
        return strip
