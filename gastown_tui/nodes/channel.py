"""The node channel: JSON lines over the stdio of one `ssh node gastown node serve` (docs/nodes.md).

Framing is the town server's: one JSON object per line, split by gastown_tui/lines.py as the server's
wire is. PTY bytes travel base64 in
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

from gastown_tui import lines
from gastown_tui.lines import OVERLONG  # noqa: F401 (what LineSplitter.feed yields for an over-long line)

PROTOCOL = 1
MAX_LINE = 8 * 1024 * 1024  # a 64 KiB PTY read is ~88 KiB in base64; a relayed command's output may be more


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


class LineSplitter(lines.LineSplitter):
    """Lines of at most MAX_LINE bytes off the node's channel (gastown_tui/lines.py)."""

    def __init__(self, limit: int = MAX_LINE) -> None:
        super().__init__(limit)


def pack(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unpack(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise BadRequest(f"data is not base64: {exc}") from None
