"""One node session's output, numbered by byte: what a town that lost its link resumes from.

Every byte a program writes gets a sequence number: its offset in the program's whole output (the first
byte is 0). The node daemon keeps the last RING bytes in memory and every byte in a file
(`<dir>/sessions/<sid>.out`), so a town that saw output up to offset N asks for N and gets exactly the
bytes from N on — no gap, no repeat — however long the link was down."""
from __future__ import annotations

import os
from pathlib import Path

RING = 1024 * 1024  # bytes kept in memory per session; older ones are read back from the file


class OutputLog:
    def __init__(self, path: Path, ring: int = RING) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "wb", buffering=0)
        self.ring = bytearray()
        self.ring_max = ring
        self.end = 0  # the offset after the last byte (the whole output's length)

    @property
    def ring_start(self) -> int:
        return self.end - len(self.ring)

    def append(self, data: bytes) -> int:
        """Keeps DATA; the offset of its first byte."""
        start = self.end
        try:
            self._fh.write(data)
        except OSError:
            pass  # a full disk loses the file copy, never the ring or the live stream
        self.ring += data
        if len(self.ring) > self.ring_max:
            del self.ring[:len(self.ring) - self.ring_max]
        self.end += len(data)
        return start

    def since(self, offset: int, limit: int = 4 * 1024 * 1024) -> tuple[int, bytes]:
        """(start, bytes) from OFFSET on (at most LIMIT bytes; call again for more). START > OFFSET only
        when the file lost bytes (then the gap is reported by the caller)."""
        offset = max(0, min(offset, self.end))
        if offset >= self.ring_start:
            i = offset - self.ring_start
            return offset, bytes(self.ring[i:i + limit])
        try:
            with open(self.path, "rb") as fh:
                fh.seek(offset)
                data = fh.read(min(limit, self.ring_start - offset))
        except OSError:
            data = b""
        if len(data) != min(limit, self.ring_start - offset):
            return self.ring_start, bytes(self.ring[:limit])
        return offset, data

    def close(self) -> None:
        try:
            self._fh.close()
        except OSError:
            pass

    def remove(self) -> None:
        self.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass
