"""Search through a terminal's scrollback and screen (no Textual here).

The engine hands out history as plain text with soft wraps joined. A match's
row is found by re-wrapping each logical line at the terminal width (wide
characters take two cells and never straddle the edge), which is how the
terminal laid the line out. Smart case: a query with no capital letter matches
case-insensitively.
"""
from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len


@dataclass(frozen=True)
class Match:
    row: int  # absolute row: 0 = the oldest row of history
    col: int  # cell where the match starts in that row


def _smartcase(query: str) -> bool:
    return query == query.lower()


def find_in_text(text: str, query: str) -> list[int]:
    """Every start index of `query` in `text` (smart case, non-overlapping)."""
    if not query:
        return []
    hay, needle = (text.lower(), query.lower()) if _smartcase(query) else (text, query)
    out, i = [], hay.find(needle)
    while i >= 0:
        out.append(i)
        i = hay.find(needle, i + len(needle))
    return out


def _wrap_positions(line: str, cols: int) -> list[tuple[int, int]]:
    """(row offset, cell) of each character of a logical line wrapped at `cols`."""
    pos, row, x = [], 0, 0
    for ch in line:
        w = cell_len(ch)
        if x + w > cols and x > 0:
            row, x = row + 1, 0
        pos.append((row, x))
        x += w
    return pos


def search_history(history: str, cols: int, query: str) -> list[Match]:
    """Matches of `query` in `history` (scrollback + screen), as absolute rows, oldest first."""
    matches: list[Match] = []
    row = 0
    cols = max(1, cols)
    for line in history.split("\n"):
        hits = find_in_text(line, query)
        if line.isascii():  # one cell per character: the wrap is arithmetic
            for i in hits:
                matches.append(Match(row + i // cols, i % cols))
            row += max(1, -(-len(line) // cols))
            continue
        positions = _wrap_positions(line, cols)
        for i in hits:
            r, x = positions[i]
            matches.append(Match(row + r, x))
        row += (positions[-1][0] + 1) if positions else 1
    return matches


def row_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Cell spans [start, end) of `query` in one screen row's text."""
    spans = []
    for i in find_in_text(text, query):
        start = cell_len(text[:i])
        spans.append((start, start + cell_len(text[i : i + len(query)])))
    return spans
