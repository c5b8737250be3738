"""Splitting a byte stream into lines with a bound: one JSON object per line on the town server's socket
(server/wire.py) and on a node's SSH channel (nodes/channel.py).

`LineSplitter(limit)` never holds more than `limit` bytes of one line: an over-long line is skipped up to
its newline and reported once, as OVERLONG, so a peer sending junk cannot grow our memory.
"""
from __future__ import annotations

OVERLONG = object()  # what feed() yields in place of a line longer than the limit


class LineSplitter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._buf = bytearray()
        self._skipping = False

    def feed(self, data: bytes) -> list:
        """The complete lines in DATA (plus what was buffered), as bytes, or OVERLONG for a skipped one."""
        out: list = []
        self._buf += data
        start = 0
        while True:
            nl = self._buf.find(b"\n", start)
            if nl < 0:
                break
            if self._skipping:
                self._skipping = False
            elif nl - start > self.limit:
                out.append(OVERLONG)
            else:
                line = bytes(self._buf[start:nl]).strip()
                if line:
                    out.append(line)
            start = nl + 1
        del self._buf[:start]
        if len(self._buf) > self.limit:
            if not self._skipping:
                out.append(OVERLONG)
            self._skipping = True
            self._buf.clear()
        return out
