"""The node channel: JSON lines over the stdio of one `ssh node gastown node serve` (docs/nodes.md).

Framing is the town server's (server/wire.py: one JSON object per line). PTY bytes travel base64 in
`data`. Every message names its session (`sid`) or request (`rid`), so one SSH connection carries
every session and the control requests of a node.

town -> node   hello · spawn{sid,argv,cwd,env,cols,rows} · input{sid,data} · resize{sid,cols,rows}
               signal{sid,sig} · list
node -> town   hello{version,protocol,pid,dir} · spawned{sid,pid} · output{sid,data} · exit{sid,status}
               error{sid?,error} · sessions{sessions:[{sid,pid,alive}]}
"""
from __future__ import annotations

import base64

from gastown_tui.server.wire import OVERLONG, BadRequest, LineSplitter, decode, encode  # noqa: F401  (re-exported)

PROTOCOL = 1


def pack(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unpack(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise BadRequest(f"data is not base64: {exc}") from None
