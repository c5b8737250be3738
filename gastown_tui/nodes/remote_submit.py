"""Typing a nudge into a program on a node, exactly once, across link drops.

The local rule (sessions/submit.py) is kept: paste the text, press Enter, check the screen (the text
leaves the input line, or the screen changes), and press Enter again if it did not. What a link drop
changes: the screen cannot change while the link is down, so a wait counts only the time the link was
up and the node had acknowledged every key typed so far. The keys themselves are never typed twice: each
carries an id, the link sends again only the ones the node did not acknowledge, and the node skips ids
it already took (nodes/link.py, nodes/node_daemon.py). So a drop between the paste and the Enter, or
during the Enter, delays the nudge; it neither loses nor repeats it."""
from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from gastown_tui.sessions.states import NudgeResult
from gastown_tui.sessions.submit import RETRY_WAITS, _cursor_line, _squash, sanitize

if TYPE_CHECKING:
    from gastown_tui.nodes.remote_session import RemoteSession

TICK = 0.02


def _settled_link(session: "RemoteSession") -> bool:
    """The link is up and the node took every key typed so far."""
    return session.link.up and session.sid is not None and session.link.pending_input(session.sid) == 0


async def _wait_up_time(session: "RemoteSession", wait: float, done) -> bool:
    """Waits until DONE() or until the link was up (with every key taken) for WAIT seconds in total."""
    counted = 0.0
    last = time.monotonic()
    while counted < wait:
        await asyncio.sleep(TICK)
        now = time.monotonic()
        if _settled_link(session):
            counted += now - last
        last = now
        if not session.alive:
            return False
        if done():
            return True
    return False


async def _settle(session: "RemoteSession", quiet: float = 0.05, limit: float = 1.0) -> None:
    seq = -1
    spent = 0.0
    while spent < limit:
        if _settled_link(session) and seq == session.output_seq and time.monotonic() - session.last_output_at >= quiet:
            return
        seq = session.output_seq
        await asyncio.sleep(quiet / 2)
        if _settled_link(session):
            spent += quiet / 2


async def submit_remote(session: "RemoteSession", text: str) -> NudgeResult:
    if not session.alive:
        return NudgeResult(False, 0, "the session has exited")
    clean = sanitize(text, multiline=session.screen.modes.bracketed_paste)
    if not clean.strip():
        return NudgeResult(False, 0, "nothing to type (the text is empty after removing control characters)")
    squashed = _squash(clean)
    n = min(8, len(squashed))
    session.paste(clean)
    echoed = await _wait_up_time(session, 1.5, lambda: _cursor_line(session).endswith(squashed[-n:]))
    await _settle(session)
    frag = squashed[-n:] if echoed and _cursor_line(session).endswith(squashed[-n:]) else ""
    enters = 0
    for wait in RETRY_WAITS:
        if not session.alive:
            return NudgeResult(enters > 0, enters, "" if enters else "the session exited before Enter")
        before_seq = session.output_seq
        before = session.screen.lines()
        session.send_key(session.preset.submit_key)
        enters += 1
        if frag:
            took = await _wait_up_time(session, wait, lambda: not _cursor_line(session).endswith(frag))
        else:
            took = await _wait_up_time(session, wait, lambda seq=before_seq, lines=before: session.output_seq != seq
                                       and session.screen.lines() != lines)
        if took or not session.alive:
            return NudgeResult(True, enters)
    what = "the text stayed on the input line" if frag else "the screen did not change"
    return NudgeResult(False, enters, f"{what} after {enters} Enter presses")
