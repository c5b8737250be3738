"""The node channel: JSON lines over the stdio of one `ssh node gastown node serve` (docs/nodes.md).

Framing is the town server's (one JSON object per line, as in server/wire.py; kept here because the
nodes layer sits below the server and must not import it). PTY bytes travel base64 in
`data`. Every message names its session (`sid`) or request (`rid`), so one SSH connection carries
every session and the control requests of a node.

town -> node   hello · spawn{sid,argv,cwd,env,cols,rows} · input{sid,data} · resize{sid,cols,rows}
               signal{sid,sig} · list
node -> town   hello{version,protocol,pid,dir} · spawned{sid,pid} · output{sid,data} · exit{sid,status}
               error{sid?,error} · sessions{sessions:[{sid,pid,alive}]}
"""
from __future__ import annotations

import base64
import json

PROTOCOL = 1
MAX_LINE = 8 * 1024 * 1024  # a 64 KiB PTY read is ~88 KiB in base64; a relayed command's output may be more
OVERLONG = object()  # what LineSplitter.feed yields in place of a line longer than its limit


class BadRequest(ValueError):
    """A line that is not a JSON object, or a message that cannot be done (the text says why)."""


def encode(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode("utf-8") + b"\n"


def decode(line: bytes) -> dict:
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise BadRequest(f"expected a JSON object, got {type(obj).__name__}")
    return obj


class LineSplitter:
    """Complete lines out of a byte stream; never holds more than `limit` bytes of one line (an over-long
    line is skipped up to its newline and reported once, as OVERLONG)."""

    def __init__(self, limit: int = MAX_LINE) -> None:
        self.limit = limit
        self._buf = bytearray()
        self._skipping = False

    def feed(self, data: bytes) -> list:
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


def pack(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unpack(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise BadRequest(f"data is not base64: {exc}") from None
