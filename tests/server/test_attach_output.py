"""What `gastown attach` writes when its terminal takes output late (a slow SSH link): frames it has to drop
never cut a character in two, so the terminal's stream stays whole UTF-8. A real pipe is the terminal."""
from __future__ import annotations

import asyncio
import os

from gastown_tui.attach.terminal import OUT_LIMIT, Attach


def read_until(fd: int, end: bytes) -> bytes:
    got = bytearray()
    while not got.endswith(end):
        chunk = os.read(fd, 65536)
        assert chunk, f"the pipe closed after {len(got)} bytes"
        got += chunk
    return bytes(got)


async def test_frames_dropped_for_a_slow_terminal_never_cut_a_character_in_two():
    r, w = os.pipe()
    try:
        os.set_blocking(w, False)
        attach = Attach("/no/town", "calc/polecats/ace", stdin_fd=r, stdout_fd=w)
        attach._loop = asyncio.get_running_loop()  # (as while it runs: output goes out as the terminal takes it)
        capacity = 65536  # Linux's pipe: the first write stops inside a 3-byte character (65536 = 3 * 21845 + 1)
        attach.out("€" * (capacity // 3 + 1000))
        attach.out("€" * (OUT_LIMIT // 3 + 1))  # more than it keeps: dropped, the whole screen drawn instead
        got = await asyncio.to_thread(read_until, r, b"\x1b[?2026l")  # the redraw, once the terminal drains
        text = got.decode("utf-8")  # (strict: a cut character raises)
        assert text.startswith("€" * (capacity // 3 + 1)) and "\x1b[2J" in text
        assert len(got) < capacity + OUT_LIMIT  # the dropped frames never reached the terminal
    finally:
        os.close(r)
        os.close(w)
