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
from typing import TYPE_CHECKING, Callable

from gastown_tui.sessions.states import NudgeResult

if TYPE_CHECKING:
    from gastown_tui.sessions.session import Session

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
RETRY_WAITS = (0.5, 1.0, 2.0, 2.0)  # after the first Enter, then after each re-Enter
ECHO_WAIT = 1.5  # for the pasted text to show on the input line
TICK = 0.02


def sanitize(text: str, multiline: bool) -> str:
    """Control characters out, tabs as spaces; newlines kept only inside a bracketed paste."""
    text = text.replace("\r\n", "\n").replace("\t", " ")
    if not multiline:
        text = text.replace("\n", " ")
    return _CONTROL.sub("", text)


def remove_whitespace(text: str) -> str:
    """TEXT with every space, tab and newline removed: how typed text and a screen row are compared (a
    program may wrap, indent or pad what it echoes)."""
    return re.sub(r"\s+", "", text)


def cursor_line(session: "Session") -> str:
    """The row the session's cursor is on, without whitespace ("" when the cursor is off the screen)."""
    lines = session.screen.lines()
    y = session.screen.cursor.y
    return remove_whitespace(lines[y]) if 0 <= y < len(lines) else ""


def _always() -> bool:
    return True


async def _counted_wait(session: "Session", seconds: float, done: Callable[[], bool],
                        settled: Callable[[], bool]) -> bool:
    """True as soon as DONE(); False once SECONDS of time during which SETTLED() held have passed (or the
    session ended). Time while not settled does not count: the program cannot have answered yet."""
    counted = 0.0
    last = time.monotonic()
    while counted < seconds:
        await asyncio.sleep(TICK)
        now = time.monotonic()
        if settled():
            counted += now - last
        last = now
        if not session.alive:
            return False
        if done():
            return True
    return False


async def wait_until_quiet(session: "Session", settled: Callable[[], bool], quiet: float = 0.05,
                           limit: float = 1.0) -> None:
    """Waits until the session's program has written nothing for QUIET seconds while SETTLED() holds (its
    screen has caught up with what was typed), or until LIMIT seconds of settled time have passed."""
    seq = -1
    spent = 0.0
    last = time.monotonic()
    while spent < limit:
        if settled() and seq == session.output_seq and time.monotonic() - session.last_output_at >= quiet:
            return
        seq = session.output_seq
        await asyncio.sleep(quiet / 2)
        now = time.monotonic()
        if settled():
            spent += now - last
        last = now


async def submit_text(session: "Session", text: str, settled: Callable[[], bool] = _always) -> NudgeResult:
    """Pastes TEXT and presses Enter until the program took it. SETTLED says whether the program can have
    seen every key typed so far and its screen can have come back (a local PTY: always; a program on a
    node: only while its link is up and the node acknowledged every key, nodes/remote_submit.py): every
    wait below counts only settled time, so a pause in between delays the nudge, never repeats it."""
    if not session.alive:
        return NudgeResult(False, 0, "the session has exited")
    clean = sanitize(text, multiline=session.screen.modes.bracketed_paste)
    if not clean.strip():
        return NudgeResult(False, 0, "nothing to type (the text is empty after removing control characters)")
    squashed = remove_whitespace(clean)
    n = min(8, len(squashed))
    session.paste(clean)
    # Wait for the echo: the cursor line ending with the end of the text.
    echoed = await _counted_wait(session, ECHO_WAIT, lambda: cursor_line(session).endswith(squashed[-n:]), settled)
    await wait_until_quiet(session, settled)
    frag = squashed[-n:] if echoed and cursor_line(session).endswith(squashed[-n:]) else ""
    return await press_enter_until_taken(session, frag, settled)


async def press_enter_until_taken(session: "Session", frag: str, settled: Callable[[], bool] = _always,
                                  ) -> NudgeResult:
    """Presses the submit key until the program took what is on its input line: FRAG (the end of the
    typed text, spaces removed) leaves the cursor line, or, with no FRAG (the program did not echo it),
    the screen changes. Up to len(RETRY_WAITS) presses, each wait counting only SETTLED time."""
    enters = 0
    for wait in RETRY_WAITS:
        if not session.alive:
            return NudgeResult(enters > 0, enters, "" if enters else "the session exited before Enter")
        before_seq = session.output_seq
        before = session.screen.lines()
        session.send_key(session.preset.submit_key)
        enters += 1
        if frag:  # echoed: the text leaves the input line
            took = await _counted_wait(session, wait, lambda: not cursor_line(session).endswith(frag), settled)
        else:  # not echoed: the screen changes
            def changed(seq: int = before_seq, lines: object = before) -> bool:
                return session.output_seq != seq and session.screen.lines() != lines

            took = await _counted_wait(session, wait, changed, settled)
        if took or not session.alive:
            return NudgeResult(True, enters)
    what = "the text stayed on the input line" if frag else "the screen did not change"
    return NudgeResult(False, enters, f"{what} after {enters} Enter presses")
