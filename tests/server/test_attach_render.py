"""What `gastown attach` writes to the terminal for the server's screen events, and its detach key."""
from __future__ import annotations

from gastown_tui.attach.render import AnsiScreen, DetachKeys, sgr


def test_styles_become_sgr_with_palette_and_truecolour():
    assert sgr({}) == "\x1b[0m"
    assert sgr({"bold": True, "fg": 1, "bg": [10, 20, 30]}) == "\x1b[0;1;38;5;1;48;2;10;20;30m"
    assert sgr({"underline": 3, "reverse": True}) == "\x1b[0;7;4:3m"


def test_a_full_frame_then_a_delta_repaint_only_the_changed_rows_cropped_to_the_terminal():
    s = AnsiScreen(cols=8, rows=2)
    s.style({"event": "style", "id": 0, "style": {}})
    s.style({"event": "style", "id": 1, "style": {"bold": True}})
    full = s.apply({"event": "screen", "full": True, "cols": 20, "rows": 3,
                    "rows_changed": {"0": [["hello ", 0, 6], ["world!", 1, 6]], "1": [["x", 0, 1]], "2": [["gone", 0, 4]]},
                    "cursor": [1, 1, True], "modes": {}})
    assert "\x1b[2J" in full
    assert "\x1b[1;1H\x1b[0mhello \x1b[0;1mwo\x1b[0m" in full  # cropped to 8 cells, no erase when the row is full
    assert "\x1b[2;1H\x1b[0mx\x1b[0m\x1b[K" in full
    assert "gone" not in full  # row 3 is below this 2-row terminal
    assert full.endswith("\x1b[2;2H\x1b[?25h\x1b[?2026l")
    delta = s.apply({"event": "screen", "full": False, "cols": 20, "rows": 3,
                     "rows_changed": {"1": [["y", 0, 1]]}, "cursor": [0, 0, False], "modes": {"app_cursor": True}})
    assert "\x1b[2J" not in delta and "\x1b[1;1H" not in delta and "\x1b[2;1H\x1b[0my" in delta
    assert "\x1b[?1h" in delta and "\x1b[?25l" in delta  # the agent's cursor-key mode mirrored; cursor hidden
    assert "\x1b[1;1H\x1b[0mhello" in s.resize_terminal(30, 3)  # a bigger terminal gets everything again


def test_wide_characters_are_cropped_by_cells():
    s = AnsiScreen(cols=3, rows=1)
    out = s.apply({"event": "screen", "full": True, "cols": 4, "rows": 1, "rows_changed": {"0": [["日本", 0, 4]]},
                   "cursor": [0, 0, True], "modes": {}})
    assert "日" in out and "本" not in out


def test_ctrl_b_d_detaches_and_ctrl_b_twice_sends_one():
    k = DetachKeys()
    assert k.feed(b"ab\x02\x02c") == (b"ab\x02c", False)
    assert k.feed(b"x\x02") == (b"x", False)  # a prefix split across reads
    assert k.feed(b"d") == (b"", True)
    k = DetachKeys()
    assert k.feed(b"\x02x") == (b"\x02x", False)
