"""A mouse selection over a terminal pane's visible rows, and the text it covers (no Textual here)."""
from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len


@dataclass
class Selection:
    """From the cell where the mouse went down to where it is now (inclusive), in viewport coordinates."""

    anchor: tuple[int, int]  # (y, x)
    head: tuple[int, int]

    def ordered(self) -> tuple[tuple[int, int], tuple[int, int]]:
        return (self.anchor, self.head) if self.anchor <= self.head else (self.head, self.anchor)

    @property
    def empty(self) -> bool:
        return self.anchor == self.head

    def span(self, y: int, width: int) -> tuple[int, int] | None:
        """Cells [start, end) selected on row `y`, or None."""
        (y0, x0), (y1, x1) = self.ordered()
        if y < y0 or y > y1:
            return None
        start = x0 if y == y0 else 0
        end = x1 + 1 if y == y1 else width
        return (start, min(end, width)) if end > start else None

    def text(self, rows: dict[int, str], width: int) -> str:
        """The selected text: each row cut to its span, trailing spaces removed, rows joined by newlines."""
        (y0, _), (y1, _) = self.ordered()
        out = []
        for y in range(y0, y1 + 1):
            span = self.span(y, width)
            line = rows.get(y, "")
            out.append(cut_cells(line, *span).rstrip() if span else "")
        return "\n".join(out)


def cut_cells(text: str, start: int, end: int) -> str:
    """The characters of `text` whose cells fall in [start, end)."""
    out, x = [], 0
    for ch in text:
        w = cell_len(ch)
        if x >= start and x + w <= end:
            out.append(ch)
        x += w
        if x >= end:
            break
    return "".join(out)
