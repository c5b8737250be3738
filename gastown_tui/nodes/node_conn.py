"""One town connection to the node daemon (nodes/node_daemon.py): the ssh channel a `node serve` bridge
handed over. It knows which town link it belongs to (its hello's `link`), that town's mark (its hello's
`town`, nodes/node_ownership.py) and which sessions' live output it gets; a town that stops reading is
dropped past SEND_BUFFER_MAX queued (it resumes from its last byte on its next connection)."""
from __future__ import annotations

import asyncio
import itertools

from gastown_tui.nodes.channel import encode
from gastown_tui.nodes.node_session import ORPHAN_AFTER

SEND_BUFFER_MAX = 16 * 1024 * 1024  # a town connection this far behind is dropped (it resumes from its seq)


class Conn:
    """One bridge connection (one ssh connection from the town)."""

    _ids = itertools.count(1)

    def __init__(self, writer: asyncio.StreamWriter, on_close=None) -> None:
        self.writer = writer
        self.on_close = on_close  # closes the read side too (the ssh stdin pipe is a transport of its own)
        self.id = next(self._ids)
        self.attached: set[str] = set()  # sessions whose live output goes to this connection
        self.link: str | None = None  # the town link this connection belongs to (its hello's `link`)
        self.town: str | None = None  # the digest of the town's proof (its hello's `town`)
        self.orphan_after = ORPHAN_AFTER
        self.closed = False

    def send(self, msg: dict) -> bool:
        if self.closed:
            return False
        if self.writer.transport.get_write_buffer_size() > SEND_BUFFER_MAX:
            self.close()  # the town stopped reading: it resumes from its last seq on its next connection
            return False
        try:
            self.writer.write(encode(msg))
        except (ConnectionError, RuntimeError):
            self.close()
            return False
        return True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.writer.close()
            if self.on_close is not None:
                self.on_close()
