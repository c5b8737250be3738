"""The VT engine: real agent captures give tmux's screens; replies, styles, dirty rows, scrollback."""
from __future__ import annotations

import re

import pytest

from gastown_tui.sessions.vt import Cursor, Style, new_screen

CAPTURES = ["claude", "codex", "gemini", "aider"]
# tmux answered the programs' queries into a tty that echoed them, so a few rows of
# its reference screens hold those echoed replies, printed by the tty as "^[[?1;2c", "^[[9;1R".
_ECHOED_REPLY = re.compile(r"\^\[\[[?>]?[\d;]*[cR]")


def _expected_rows(shared, name: str) -> list[str]:
    text = (shared / "captures" / f"{name}_session.tmux-screen.txt").read_text(encoding="utf-8")
    rows = [_ECHOED_REPLY.sub("", line).rstrip() for line in text.split("\n")][:40]
    return rows + [""] * (40 - len(rows))


@pytest.mark.parametrize("name", CAPTURES)
def test_capture_gives_the_screen_tmux_gives(shared, name):
    raw = (shared / "captures" / f"{name}_session.raw").read_bytes()
    screen = new_screen(120, 40)
    replies = []
    screen.on_reply = replies.append
    for i in range(0, len(raw), 4096):  # fed as a PTY would deliver it, in pieces
        screen.feed(raw[i:i + 4096])
    got = screen.lines()
    expected = _expected_rows(shared, name)
    diff = [(y, expected[y], got[y]) for y in range(40) if expected[y] != got[y]]
    assert not diff, f"{name}: rows differing from tmux: {diff[:5]}"


def test_capture_feeding_byte_by_byte_gives_the_same_screen(shared):
    raw = (shared / "captures" / "claude_session.raw").read_bytes()
    whole, split = new_screen(120, 40), new_screen(120, 40)
    whole.feed(raw)
    for i in range(0, len(raw), 7):  # splits escape sequences and UTF-8 characters alike
        split.feed(raw[i:i + 7])
    assert split.lines() == whole.lines()
    assert split.cursor == whole.cursor


def test_utf8_character_split_across_reads_survives():
    screen = new_screen(20, 3)
    data = "─✻ 日本 é".encode()
    for b in data:
        screen.feed(bytes([b]))
    assert screen.lines()[0] == "─✻ 日本 é"


def test_terminal_queries_are_answered_like_xterm():
    screen = new_screen(80, 24)
    replies = []
    screen.on_reply = replies.append
    screen.feed(b"\x1b[5;10H\x1b[6n")  # DSR cursor position
    screen.feed(b"\x1b[c")  # DA1
    screen.feed(b"\x1b[>c")  # DA2
    screen.feed(b"\x1b]11;?\x1b\\")  # OSC 11 background colour
    screen.feed(b"\x1b]10;?\x07")  # OSC 10 foreground colour
    assert replies[0] == b"\x1b[5;10R"
    assert replies[1].startswith(b"\x1b[?") and replies[1].endswith(b"c")
    assert replies[2].startswith(b"\x1b[>") and replies[2].endswith(b"c")
    assert replies[3].startswith(b"\x1b]11;rgb:") and replies[3].endswith(b"\x1b\\")
    assert replies[4].startswith(b"\x1b]10;rgb:") and replies[4].endswith(b"\x07")


def test_unknown_osc_reaches_the_session_codex_7501(shared):
    raw = (shared / "captures" / "codex_session.raw").read_bytes()
    screen = new_screen(120, 40)
    seen = []
    screen.on_osc = lambda num, payload: seen.append((num, payload))
    screen.feed(raw)
    states = [p for n, p in seen if n == 7501]
    assert "state=working:app=codex" in states
    assert any(p.startswith("state=blocked") for p in states)
    assert states[-1] == "state=idle:app=codex"


def test_render_gives_style_runs_and_only_dirty_rows():
    screen = new_screen(40, 5)
    screen.feed(b"plain \x1b[1;31mbold red\x1b[0m \x1b[38;2;1;2;3;48;5;236mrgb\x1b[0m\r\n")
    screen.feed("wide 日本\r\n".encode())
    frame = screen.render()
    assert frame.full and sorted(frame.rows) == [0, 1, 2, 3, 4]
    runs = frame.rows[0].runs
    assert [r.text for r in runs][:4] == ["plain ", "bold red", " ", "rgb"]
    assert runs[1].style == Style(fg=1, bold=True)
    assert runs[3].style.fg == (1, 2, 3) and runs[3].style.bg == 236
    row1 = frame.rows[1]
    assert row1.text.rstrip() == "wide 日本"
    assert sum(r.cells for r in row1.runs) == 40  # the wide chars count two cells each
    assert frame.cursor == Cursor(0, 2, True)
    assert not screen.changed
    # Nothing new: nothing to redraw.
    assert screen.render().rows == {}
    # One row touched: that row comes back, with at most the row the cursor left.
    screen.feed(b"\x1b[4;1Hx")
    frame = screen.render()
    assert 3 in frame.rows and set(frame.rows) <= {2, 3} and not frame.full
    assert frame.rows[3].text.startswith("x")


def test_title_is_sanitized():
    screen = new_screen(40, 5)
    screen.feed(b"\x1b]0;\xe2\x9c\xb3 Fake\x08\x07 session\x07")
    assert "\x08" not in screen.title


def test_modes_follow_the_program():
    screen = new_screen(40, 5)
    assert not screen.modes.mouse and not screen.modes.bracketed_paste
    screen.feed(b"\x1b[?1002h\x1b[?1006h\x1b[?2004h\x1b[?1h\x1b[?1049h")
    m = screen.modes
    assert m.mouse and m.mouse_sgr and m.mouse_motion == 1 and m.bracketed_paste and m.app_cursor and m.alt_screen
    screen.feed(b"\x1b[?1002l\x1b[?2004l\x1b[?1049l")
    assert not screen.modes.mouse and not screen.modes.bracketed_paste and not screen.modes.alt_screen


def test_scrollback_keeps_ten_thousand_lines_and_scrolls():
    screen = new_screen(120, 40, scrollback_lines=10_000)
    screen.feed(b"".join(b"line %d\r\n" % i for i in range(12_000)))
    assert screen.scrollback_rows >= 10_000
    history = screen.history_text().rstrip("\n").splitlines()
    assert history[-1] == "line 11999" and history[-10_000] == "line 2000"
    assert screen.viewport_offset == 0
    screen.scroll_viewport(-100)
    assert screen.viewport_offset == 100
    frame = screen.render()
    assert frame.full
    assert frame.rows[0].text.rstrip() == screen_line_at(11999 - 100 - 38)
    screen.scroll_to_bottom()
    assert screen.viewport_offset == 0
    assert screen.render().rows[38].text.rstrip() == "line 11999"


def screen_line_at(n: int) -> str:
    return f"line {n}"


def test_resize_reflows_and_reports_full_frame():
    screen = new_screen(20, 5)
    screen.feed(b"0123456789abcdefghij0123")
    screen.render()
    screen.resize(30, 5)
    frame = screen.render()
    assert frame.full
    assert screen.cols == 30 and screen.lines()[0] == "0123456789abcdefghij0123"
    with pytest.raises(ValueError):
        screen.resize(0, 5)


def test_synchronized_output_shows_no_half_drawn_frame():
    screen = new_screen(20, 3)
    screen.feed(b"old frame")
    screen.render()
    screen.feed(b"\x1b[?2026h\x1b[H\x1b[2Jnew fr")  # the program is mid-frame
    assert screen.render().rows == {} and screen.changed
    screen.feed(b"ame\x1b[?2026l")
    assert screen.render().rows[0].text.rstrip() == "new frame"


def test_clipboard_and_notification_escapes_go_nowhere():
    screen = new_screen(40, 5)
    replies, oscs = [], []
    screen.on_reply = replies.append
    screen.on_osc = lambda n, p: oscs.append((n, p))
    # Set the clipboard, ask to read it back, notifications: nothing is answered or passed on.
    screen.feed(b"\x1b]52;c;aGVsbG8=\x07\x1b]52;c;?\x07\x1b]9;hi\x07\x1b]777;notify;a;b\x07text")
    assert replies == [] and oscs == []
    assert screen.lines()[0] == "text"
