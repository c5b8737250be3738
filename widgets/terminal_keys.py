"""Which bytes a key press in a terminal pane sends to the program.

Printable characters go as themselves (UTF-8); everything else in xterm's encoding for the modes the
program set (sessions/keys.py); a key xterm has no sequence for sends its character, if it has one. The
pane (widgets/terminal_pane.py) decides whether a key goes to the program at all (the prefix key,
scrollback and search keep theirs)."""
from __future__ import annotations

from gastown_tui.sessions.keys import KeyError_, encode_key
from gastown_tui.sessions.vt import Modes


def key_bytes(key: str, character: str | None, modes: Modes) -> bytes:
    """The bytes for Textual's `key` (with its `character`) under the program's `modes`; b"" for none."""
    if character and character.isprintable() and not key.startswith(("ctrl+", "alt+")) and len(character) == 1:
        return character.encode()
    try:
        return encode_key(key, modes)
    except KeyError_:
        return character.encode() if character else b""
