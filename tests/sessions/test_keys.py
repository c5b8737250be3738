"""Keys, pastes and mouse reports as an xterm sends them."""
from __future__ import annotations

import pytest

from gastown_tui.sessions.keys import KeyError_, encode_key, encode_mouse, encode_paste
from gastown_tui.sessions.vt import Modes


@pytest.mark.parametrize("key,expected", [
    ("a", b"a"), ("A", b"A"), ("é", "é".encode()), ("enter", b"\r"), ("tab", b"\t"), ("shift+tab", b"\x1b[Z"),
    ("escape", b"\x1b"), ("backspace", b"\x7f"), ("ctrl+c", b"\x03"), ("ctrl+a", b"\x01"), ("ctrl+d", b"\x04"),
    ("alt+x", b"\x1bx"), ("up", b"\x1b[A"), ("ctrl+up", b"\x1b[1;5A"), ("shift+right", b"\x1b[1;2C"),
    ("home", b"\x1b[H"), ("end", b"\x1b[F"), ("pageup", b"\x1b[5~"), ("delete", b"\x1b[3~"),
    ("f1", b"\x1bOP"), ("f5", b"\x1b[15~"), ("f12", b"\x1b[24~"), ("ctrl+space", b"\x00"),
    ("space", b" "), ("slash", b"/"),
])
def test_keys(key, expected):
    assert encode_key(key) == expected


def test_cursor_keys_follow_application_mode():
    assert encode_key("up", Modes(app_cursor=True)) == b"\x1bOA"
    assert encode_key("left", Modes(app_cursor=False)) == b"\x1b[D"


def test_unknown_key_is_named():
    with pytest.raises(KeyError_, match="'hyper\\+q'"):
        encode_key("hyper+q")


def test_paste_is_bracketed_only_when_asked_and_cannot_break_out():
    assert encode_paste("a\nb") == b"a\rb"
    out = encode_paste("x\x1b[201~rm -rf /\n", Modes(bracketed_paste=True))
    assert out == b"\x1b[200~x[201~rm -rf /\r\x1b[201~"


def test_mouse_only_when_the_program_asked():
    assert encode_mouse("press", 0, 3, 4) == b""
    sgr = Modes(mouse=True, mouse_sgr=True)
    assert encode_mouse("press", 0, 3, 4, sgr) == b"\x1b[<0;4;5M"
    assert encode_mouse("release", 0, 3, 4, sgr) == b"\x1b[<0;4;5m"
    assert encode_mouse("scroll_up", 0, 0, 0, sgr) == b"\x1b[<64;1;1M"
    assert encode_mouse("move", -1, 1, 1, sgr) == b""  # no motion reports unless ?1003
    assert encode_mouse("move", -1, 1, 1, Modes(mouse=True, mouse_sgr=True, mouse_motion=2)) == b"\x1b[<35;2;2M"
    assert encode_mouse("press", 0, 3, 4, Modes(mouse=True)) == b"\x1b[M\x20\x24\x25"
