"""Keys, pastes and mouse events as the bytes an xterm sends to the program.

Key names are Textual's (`"a"`, `"enter"`, `"ctrl+c"`, `"shift+tab"`, `"up"`,
`"alt+x"`, `"f5"`, `"ctrl+up"`...), so a pane passes `event.key` straight
through. Cursor keys follow the program's application-cursor mode (DECCKM).
The kitty keyboard protocol is not spoken: programs that ask for it get the
legacy encodings, as they do from tmux.
"""
from __future__ import annotations

from gastown_tui.sessions.vt import Modes

_SIMPLE = {
    "enter": b"\r",
    "return": b"\r",
    "tab": b"\t",
    "escape": b"\x1b",
    "backspace": b"\x7f",
    "space": b" ",
    "insert": b"\x1b[2~",
    "delete": b"\x1b[3~",
    "pageup": b"\x1b[5~",
    "page_up": b"\x1b[5~",
    "pagedown": b"\x1b[6~",
    "page_down": b"\x1b[6~",
    "shift+tab": b"\x1b[Z",
    "backtab": b"\x1b[Z",
}
_CURSOR = {"up": "A", "down": "B", "right": "C", "left": "D", "home": "H", "end": "F"}
_TILDE = {"insert": 2, "delete": 3, "pageup": 5, "pagedown": 6}
_F_SS3 = {1: "P", 2: "Q", 3: "R", 4: "S"}
_F_TILDE = {5: 15, 6: 17, 7: 18, 8: 19, 9: 20, 10: 21, 11: 23, 12: 24}
_NAMED_CHARS = {
    "exclamation_mark": "!", "quotation_mark": '"', "number_sign": "#", "dollar_sign": "$",
    "percent_sign": "%", "ampersand": "&", "apostrophe": "'", "left_parenthesis": "(",
    "right_parenthesis": ")", "asterisk": "*", "plus": "+", "comma": ",", "minus": "-",
    "full_stop": ".", "slash": "/", "colon": ":", "semicolon": ";", "less_than_sign": "<",
    "equals_sign": "=", "greater_than_sign": ">", "question_mark": "?", "at": "@",
    "left_square_bracket": "[", "backslash": "\\", "right_square_bracket": "]",
    "circumflex_accent": "^", "underscore": "_", "grave_accent": "`", "left_curly_bracket": "{",
    "vertical_line": "|", "right_curly_bracket": "}", "tilde": "~",
}


class KeyError_(ValueError):
    """A key name this encoder does not know."""


def _mod_param(shift: bool, alt: bool, ctrl: bool) -> int:
    return 1 + (1 if shift else 0) + (2 if alt else 0) + (4 if ctrl else 0)


def encode_key(key: str, modes: Modes | None = None) -> bytes:
    """The bytes for one key press; raises `KeyError_` naming an unknown key."""
    modes = modes or Modes()
    if len(key) == 1:
        return key.encode()
    parts = key.split("+")
    base = parts[-1]
    mods = set(parts[:-1])
    if mods - {"shift", "ctrl", "alt", "meta"} or not base:
        raise KeyError_(f"unknown key {key!r}")
    if key in _SIMPLE:
        return _SIMPLE[key]
    shift, alt, ctrl = "shift" in mods, "alt" in mods or "meta" in mods, "ctrl" in mods
    base = _NAMED_CHARS.get(base, base)
    if base in _CURSOR:
        final = _CURSOR[base]
        if mods:
            return f"\x1b[1;{_mod_param(shift, alt, ctrl)}{final}".encode()
        return (f"\x1bO{final}" if modes.app_cursor else f"\x1b[{final}").encode()
    if base in ("pageup", "page_up", "pagedown", "page_down", "insert", "delete"):
        num = _TILDE[base.replace("_", "")]
        if mods:
            return f"\x1b[{num};{_mod_param(shift, alt, ctrl)}~".encode()
        return f"\x1b[{num}~".encode()
    if base.startswith("f") and base[1:].isdigit():
        n = int(base[1:])
        if n in _F_SS3:
            if mods:
                return f"\x1b[1;{_mod_param(shift, alt, ctrl)}{_F_SS3[n]}".encode()
            return f"\x1bO{_F_SS3[n]}".encode()
        if n in _F_TILDE:
            if mods:
                return f"\x1b[{_F_TILDE[n]};{_mod_param(shift, alt, ctrl)}~".encode()
            return f"\x1b[{_F_TILDE[n]}~".encode()
    if base in ("enter", "tab", "escape", "backspace", "space"):
        out = _SIMPLE[base]
        if ctrl and base == "space":
            out = b"\x00"
        elif ctrl and base == "backspace":
            out = b"\x08"
        return b"\x1b" + out if alt else out
    if len(base) == 1:
        ch = base.upper() if shift and base.isalpha() else base
        if ctrl:
            c = ch.upper()
            if "@" <= c <= "_":
                out = bytes([ord(c) - 64])
            elif c == "?":
                out = b"\x7f"
            elif c in "2 ":
                out = b"\x00"
            else:
                out = ch.encode()
        else:
            out = ch.encode()
        return b"\x1b" + out if alt else out
    raise KeyError_(f"unknown key {key!r}")


def encode_paste(text: str, modes: Modes | None = None) -> bytes:
    """Pasted text: newlines as CR (what a terminal sends), bracketed when the program asked (?2004).

    Escape characters inside the text are removed so a paste can never end the
    bracket early or smuggle a control sequence in."""
    modes = modes or Modes()
    clean = text.replace("\r\n", "\n").replace("\x1b", "").replace("\n", "\r")
    if modes.bracketed_paste:
        return b"\x1b[200~" + clean.encode() + b"\x1b[201~"
    return clean.encode()


def encode_mouse(kind: str, button: int, x: int, y: int, modes: Modes | None = None,
                 shift: bool = False, alt: bool = False, ctrl: bool = False) -> bytes:
    """A mouse report (x, y are 0-based cells), or b"" when the program did not ask for the mouse.

    kind: press, release, move (with `button` held, or -1 for none), scroll_up, scroll_down."""
    modes = modes or Modes()
    if not modes.mouse:
        return b""
    if kind == "move":
        if modes.mouse_motion == 0 or (modes.mouse_motion == 1 and button < 0):
            return b""
        code = (3 if button < 0 else button) + 32
    elif kind in ("scroll_up", "scroll_down"):
        code = 64 if kind == "scroll_up" else 65
    elif kind in ("press", "release"):
        code = button
    else:
        raise ValueError(f"unknown mouse event kind {kind!r}")
    code += (4 if shift else 0) + (8 if alt else 0) + (16 if ctrl else 0)
    if modes.mouse_sgr:
        final = "m" if kind == "release" else "M"
        return f"\x1b[<{code};{x + 1};{y + 1}{final}".encode()
    if kind == "release":
        code = 3 + (code & ~3 & 0x1C)
    if x + 33 > 255 or y + 33 > 255:
        return b""  # legacy X10 encoding cannot express it
    return b"\x1b[M" + bytes([32 + code, 33 + x, 33 + y])
