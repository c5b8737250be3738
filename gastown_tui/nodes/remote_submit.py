"""Typing a nudge into a program on a node, exactly once, across link drops.

The local rule (sessions/submit.py) is kept: paste the text, press Enter, check the screen (the text
leaves the input line, or the screen changes), and press Enter again if it did not. What a link drop
changes: the screen cannot change while the link is down, so a wait counts only the time the link was
up and the node had acknowledged every key typed so far. The keys themselves are never typed twice: each
carries an id, the link sends again only the ones the node did not acknowledge, and the node skips ids
it already took (nodes/link.py, nodes/node_daemon.py). So a drop between the paste and the Enter, or
during the Enter, delays the nudge; it neither loses nor repeats it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from gastown_tui.sessions.states import NudgeResult
from gastown_tui.sessions.submit import submit_text

if TYPE_CHECKING:
    from gastown_tui.nodes.remote_session import RemoteSession


def settled_link(session: "RemoteSession") -> bool:
    """The link is up and the node took every key typed so far: the program's answer can be on screen."""
    return session.link.up and session.sid is not None and session.link.inputs.pending(session.sid) == 0


async def submit_remote(session: "RemoteSession", text: str) -> NudgeResult:
    """The local rule (sessions/submit.py), its waits counting only the time the link was settled."""
    return await submit_text(session, text, settled=lambda: settled_link(session))
