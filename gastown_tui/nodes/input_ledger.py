"""The town's ledger of inputs sent to a node's programs (docs/nodes.md, "Faults").

Every input the town sends a remote session carries an id (per session, 1, 2, 3...). The node types each
id once and acknowledges it; until it does, the input stays here, so a reconnect sends again exactly
the ones the node did not take (it skips any it took meanwhile): keys and nudges are typed once across a
cut. A session an earlier town server started (adopted) continues the node's numbering: its queued
inputs are renumbered after the last id the node says it took, and that id is kept for
nodes/nudge_resume.py to read.

The ledger only keeps the books; the link (nodes/link.py) sends the inputs and feeds it the node's acks
and the ids each attach reports."""
from __future__ import annotations

from collections import deque


class InputLedger:
    """Per session: the inputs not yet acknowledged by the node, and the id the next input gets."""

    def __init__(self) -> None:
        self._unacked: dict[str, deque[tuple[int, bytes]]] = {}  # sid -> (iid, data) sent or queued, not taken yet
        self._next_iid: dict[str, int] = {}  # sid -> the id its next input gets
        self.adopted_last_iid: dict[str, int] = {}  # adopted sid -> the last input id the node had taken then

    def record(self, sid: str, data: bytes) -> int:
        """DATA becomes the session's next input, unacknowledged until `acked`; its id."""
        iid = self._next_iid.get(sid, 1)
        self._next_iid[sid] = iid + 1
        self._unacked.setdefault(sid, deque()).append((iid, bytes(data)))
        return iid

    def acked(self, sid: str, iid: int) -> None:
        """The node took the session's inputs up to IID."""
        queue = self._unacked.get(sid)
        while queue and queue[0][0] <= iid:
            queue.popleft()

    def forget(self, sid: str) -> None:
        """The session ended: its unacknowledged inputs go nowhere any more."""
        self._unacked.pop(sid, None)

    def adopt(self, sid: str, last_iid: int) -> None:
        """An earlier server's session, claimed: the node took its inputs up to LAST_IID (numbered by that
        server); the inputs queued here meanwhile are renumbered to follow it, and so is the next one."""
        queued = [data for _, data in self._unacked.get(sid) or ()]
        self._unacked[sid] = deque((last_iid + 1 + i, data) for i, data in enumerate(queued))
        self._next_iid[sid] = last_iid + 1 + len(queued)
        self.adopted_last_iid[sid] = last_iid

    def to_resend(self, sid: str, last_iid: int) -> list[tuple[int, bytes]]:
        """On a new connection the node says it took the session's inputs up to LAST_IID: those are
        dropped; the rest, (iid, data) in order, must be sent again."""
        self.acked(sid, last_iid)
        return list(self._unacked.get(sid) or ())

    def next_iid(self, sid: str) -> int:
        """The id the session's next input will carry."""
        return self._next_iid.get(sid, 1)

    def pending(self, sid: str) -> int:
        """Inputs the node has not acknowledged yet."""
        return len(self._unacked.get(sid) or ())
