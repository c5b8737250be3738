"""Whose programs the node daemon runs, and when it hangs them up (docs/nodes.md, "Faults"; "A restarted
town re-adopts its nodes' programs").

Each program belongs to the town link that started it (its hello's `link`), and to that link's town when
the town proved who it is (its hello's `town`: nodes/town_identity.py; the daemon keeps only a digest,
`town_mark`). Only the owning link drives a program. A new link of the same town (a restarted server)
claims the programs it knows at its first attach and the rest of that town's are hung up; a link of
another town (or one that proved nothing) has every other link's programs hung up at its hello, so no
agent ever runs twice; and a program whose town has said nothing for longer than its `orphan_after` is
hung up (a town that never comes back leaves nothing running for ever)."""
from __future__ import annotations

import hashlib
import hmac
from typing import Iterable

from gastown_tui.nodes.daemon_log import log
from gastown_tui.nodes.node_conn import Conn
from gastown_tui.nodes.node_session import NodeSession


def town_mark(proof) -> str | None:
    """What the daemon keeps of a town's proof (nodes/town_identity.py): its digest, compared in constant time."""
    if not isinstance(proof, str) or len(proof) < 32:
        return None
    return hashlib.sha256(proof.encode()).hexdigest()


def owns(conn: Conn, session: NodeSession) -> bool:
    """Whether CONN may drive SESSION: its link started or claimed it (a link-less town: as before, any)."""
    return conn.link is None or session.owner is None or session.owner == conn.link


def same_town(session: NodeSession, conn: Conn) -> bool:
    """Whether SESSION's town and CONN's proved to be the same town."""
    return session.town is not None and conn.town is not None and hmac.compare_digest(session.town, conn.town)


def claim(session: NodeSession, conn: Conn) -> bool:
    """Whether CONN's attach gets SESSION: its link's own (or a link-less one), or an earlier link's of the
    same town (the town restarted and claims its program: adopted by CONN's link from now on). Another
    town's program is never handed over."""
    if conn.link is None or session.owner in (None, conn.link):
        return True
    if not same_town(session, conn):
        return False
    log(f"session {session.sid} (pid {session.proc.pid}) adopted by link {conn.link} (was {session.owner})")
    session.owner = conn.link
    session.orphan_after = conn.orphan_after
    return True


def hang_up_others(sessions: Iterable[NodeSession], conn: Conn) -> None:
    """A new town link said hello. Programs another link started end (SIGHUP) unless that link was the
    same town's (it proved the same town key): those wait for this link's `attach`, which claims the
    ones the restarted town knows and hangs up the rest. Another town's programs, or a town that proved
    nothing, never run on beside the new town's sessions for the same agents (no twins)."""
    for session in sessions:
        if session.done or session.owner is None or session.owner == conn.link:
            continue
        if same_town(session, conn):
            log(f"session {session.sid} (link {session.owner}): its town came back on link {conn.link}; "
                f"kept for its claim")
            continue
        session.hang_up(f"it belonged to town link {session.owner}; a new town link ({conn.link}) of "
                        f"another town (or one that proved none) said hello")


def hang_up_unclaimed(sessions: Iterable[NodeSession], conn: Conn) -> None:
    """After CONN's attach: the programs of its town it did not claim end (a restarted server that knows
    nothing of them would start their agents again beside them)."""
    if conn.link is None:
        return
    for session in sessions:
        if not session.done and session.owner != conn.link and same_town(session, conn):
            session.hang_up(f"its town's new link {conn.link} did not claim it (link {session.owner})")


def hang_up_orphans(sessions: Iterable[NodeSession], heard: dict[str, float], now: float) -> None:
    """A program whose town link has said nothing for longer than its `orphan_after` (the town's grace
    and a margin: the town gave up on it by then) ends: a town that never comes back leaves no program
    running for ever, and none beside its re-slung successor. HEARD: town link -> when it last said
    something (monotonic); a link not heard of yet counts from NOW."""
    for session in sessions:
        if session.done or session.owner is None or session.hung_up:
            continue
        heard_at = heard.setdefault(session.owner, now)
        if now - heard_at > session.orphan_after:
            session.hang_up(f"its town (link {session.owner}) said nothing for {now - heard_at:.0f}s "
                            f"(more than {session.orphan_after:g}s)")
