"""Search rows agree with how the real VT engine wrapped the text (widgets/terminal_search.py)."""
from gastown_tui.sessions.vt import new_screen
from widgets.terminal_search import row_spans, search_history
from widgets.terminal_selection import cut_cells


def test_match_rows_follow_the_engines_wrapping_of_long_and_wide_lines():
    screen = new_screen(cols=20, rows=30)
    text = ("short needle\r\n" + "x" * 45 + "needle\r\n" + "中文" * 12 + "needle\r\n\r\n"
            + "y" * 20 + "\r\nlast NEEDLE and needle\r\n")
    screen.feed(text.encode())
    lines = screen.lines()
    matches = search_history(screen.history_text(), screen.cols, "needle")  # smart case: matches NEEDLE too
    assert len(matches) == 5
    for m in matches:  # the engine's row shows the query (or its start, when it wraps) at the match's cell
        k = min(6, screen.cols - m.col)
        assert cut_cells(lines[m.row], m.col, m.col + k).lower() == "needle"[:k], (m, lines[m.row])
    rows = [m.row for m in matches]
    assert rows == sorted(rows)
    assert lines[rows[0]] == "short needle"
    assert lines[rows[-1]].startswith("last NEEDLE")


def test_smart_case_and_cell_spans():
    assert search_history("Foo foo", 80, "Foo") != search_history("Foo foo", 80, "foo")
    assert len(search_history("Foo foo", 80, "foo")) == 2
    assert row_spans("中x needle", "needle") == [(4, 10)]  # the wide character takes two cells
