"""What keeps a busy pane cheap: rows reused when output scrolls, the text kept between feeds.

Each reuse must give exactly what decoding afresh gives: every check compares with a screen
that decodes everything (its row cache off) fed the same bytes."""
from __future__ import annotations

import random

import pytest

from gastown_tui.sessions.vt import engine_name, new_screen

pytestmark = pytest.mark.skipif(engine_name() != "ghostty", reason="the row cache is the pyghostty engine's")


def uncached(cols: int, rows: int):
    from gastown_tui.sessions import vt_ghostty

    screen = new_screen(cols, rows, 1000)
    screen._row_cache = _NoCache()
    assert isinstance(screen, vt_ghostty.GhosttyScreen)
    return screen


class _NoCache(dict):
    def __setitem__(self, key, value) -> None:  # never keeps anything: every row is decoded
        pass


def test_scrolling_plain_output_decodes_only_the_new_row():
    screen = new_screen(80, 20, 1000)
    for i in range(30):
        screen.feed(f"busy line {i:06d} {'x' * 50}\r\n".encode())
    screen.render(dirty_only=False)
    before = screen.rows_decoded
    screen.feed(b"one more line\r\n")
    frame = screen.render()
    assert len(frame.rows) == 20  # scrolling marks every row dirty...
    assert screen.rows_decoded - before <= 2  # ...but only the new last rows are decoded
    assert [frame.rows[y].text.rstrip() for y in range(20)] == screen.lines()


def test_rows_with_styles_are_decoded_every_time_and_keep_their_colours():
    """Style ids belong to the page holding the row, so equal cells may mean other colours: never reused."""
    screen = new_screen(40, 6, 1000)
    screen.feed(b"\x1b[31msame text\x1b[0m\r\n")
    screen.render(dirty_only=False)
    before = screen.rows_decoded
    screen.feed(b"\x1b[32msame text\x1b[0m\r\n")
    frame = screen.render(dirty_only=False)
    assert screen.rows_decoded - before == 2  # both coloured rows again (the blank rows are reused)
    assert frame.rows[0].runs[0].style.fg == 1
    assert frame.rows[1].runs[0].style.fg == 2


def test_reused_rows_equal_freshly_decoded_ones_through_random_output():
    rng = random.Random(7)
    pieces = [b"plain words\r\n", "wide \u4e2d\u6587 and \u00e9\r\n".encode(), b"\x1b[1;31mred\x1b[0m tail\r\n",
              b"e\xcc\x81 combining\r\n", b"\x1b[44m  blue bg  \x1b[0m\r\n", b"x" * 95 + b"\r\n", b"\x1b[2J\x1b[H",
              b"\x1b[3;5Hmoved", b"\x1b[?1049h", b"\x1b[?1049l", b"\x1b[2K\r", b"\x1b[M", b"\x1b[L", b"\t|\r\n"]
    cached, fresh = new_screen(60, 12, 1000), uncached(60, 12)
    shown: dict[int, object] = {}
    for step in range(1500):
        data = rng.choice(pieces)
        cached.feed(data)
        fresh.feed(data)
        if step % 5 == 0:
            frame = cached.render()
            shown.update(frame.rows)  # what a pane holds: the rows of every frame so far
            truth = fresh.render(dirty_only=False)
            assert {y: r.runs for y, r in shown.items()} == {y: r.runs for y, r in truth.rows.items()}, step
        if step == 700:
            cached.resize(50, 10)
            fresh.resize(50, 10)
            shown.clear()
            shown.update(cached.render().rows)
    assert cached.rows_decoded < fresh.rows_decoded


def test_screen_text_is_current_after_every_feed_and_resize():
    screen = new_screen(30, 4, 100)
    screen.feed(b"first")
    assert screen.lines()[0] == "first"
    assert screen.lines() == screen.lines()  # kept while nothing was fed
    screen.feed(b" second")
    assert screen.lines()[0] == "first second"
    lines = screen.lines()
    lines[0] = "changed by the caller"
    assert screen.lines()[0] == "first second"  # callers get their own list
    screen.resize(8, 4)
    assert screen.lines()[:2] == ["first se", "cond"]
