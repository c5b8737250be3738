"""Typing text into an agent and making sure it was submitted.

The most common complaint about the original Gas Town is a nudge typed into the
input box but never submitted. Here: paste the text, press Enter, and check the
screen: the text must leave the input line (or, when the program does not echo
it, the screen must change). If it did not, press Enter again, up to three more
times, waiting longer each time. The result says how many Enters it took, or why
it failed — the caller reports a failure, it never drops the nudge.
"""
from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING

from gastown_tui.sessions.states import NudgeResult

if TYPE_CHECKING:
    from gastown_tui.sessions.session import Session

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
RETRY_WAITS = (0.5, 1.0, 2.0, 2.0)  # after the first Enter, then after each re-Enter


def sanitize(text: str, multiline: bool) -> str:
    """Control characters out, tabs as spaces; newlines kept only inside a bracketed paste."""
    text = text.replace("\r\n", "\n").replace("\t", " ")
    if not multiline:
        text = text.replace("\n", " ")
    return _CONTROL.sub("", text)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _cursor_line(session: "Session") -> str:
    """The cursor's row without spaces."""
    lines = session.screen.lines()
    y = session.screen.cursor.y
    return _squash(lines[y]) if 0 <= y < len(lines) else ""


async def _settle(session: "Session", quiet: float = 0.05, limit: float = 1.0) -> None:
    """Waits until no output has arrived for `quiet` seconds (at most `limit`)."""
    deadline = time.monotonic() + limit
    seq = -1
    while time.monotonic() < deadline:
        if seq == session.output_seq and time.monotonic() - session.last_output_at >= quiet:
            return
        seq = session.output_seq
        await asyncio.sleep(quiet / 2)


async def submit_text(session: "Session", text: str) -> NudgeResult:
    if not session.alive:
        return NudgeResult(False, 0, "the session has exited")
    modes = session.screen.modes
    clean = sanitize(text, multiline=modes.bracketed_paste)
    if not clean.strip():
        return NudgeResult(False, 0, "nothing to type (the text is empty after removing control characters)")
    text_squashed = _squash(clean)
    n = min(8, len(text_squashed))
    session.paste(clean)
    # Wait for the echo: the cursor line ending with the end of the text.
    deadline = time.monotonic() + 1.5
    frag = ""
    while time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        if _cursor_line(session).endswith(text_squashed[-n:]):
            await _settle(session)
            frag = text_squashed[-n:] if _cursor_line(session).endswith(text_squashed[-n:]) else ""
            break
    echoed = bool(frag)
    await _settle(session)
    enters = 0
    for wait in RETRY_WAITS:
        if not session.alive:
            return NudgeResult(enters > 0, enters, "" if enters else "the session exited before Enter")
        before_seq = session.output_seq
        before = session.screen.lines()
        session.send_key(session.preset.submit_key)
        enters += 1
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            if not session.alive:
                return NudgeResult(True, enters, "")
            if echoed:
                if not _cursor_line(session).endswith(frag):
                    return NudgeResult(True, enters)
            elif session.output_seq != before_seq and session.screen.lines() != before:
                return NudgeResult(True, enters)
    what = "the text stayed on the input line" if echoed else "the screen did not change"
    return NudgeResult(False, enters, f"{what} after {enters} Enter presses")
