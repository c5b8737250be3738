"""`gt` and `bd` on a node: `python -m gastown_tui.nodes.relay_client gt|bd ARGS...` (the launchers that
`gastown node serve` writes into <node dir>/bin). The command is handed to the node server through the
session's own socket (GT_NODE_SOCKET), which relays it to the town over the SSH connection; the town runs
it as the agent that socket belongs to. Stdlib only; it never runs anything on the node itself."""
from __future__ import annotations

import base64
import json
import os
import socket
import sys


def main(argv: list[str]) -> int:
    path = os.environ.get("GT_NODE_SOCKET")
    if not path:
        sys.stderr.write("gt: GT_NODE_SOCKET is not set (this launcher runs only inside a node's session)\n")
        return 3
    req = {"argv": argv, "cwd": os.getcwd()}
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        s.sendall(json.dumps(req).encode() + b"\n")
        buf = bytearray()
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except OSError as exc:
        sys.stderr.write(f"{argv[0] if argv else 'gt'}: the node's relay is unreachable ({path}): {exc}\n")
        return 3
    finally:
        s.close()
    try:
        res = json.loads(bytes(buf))
    except ValueError:
        sys.stderr.write(f"{argv[0] if argv else 'gt'}: the relay gave no answer (the link to the town dropped?)\n")
        return 3
    sys.stdout.buffer.write(base64.b64decode(res.get("stdout", "")))
    sys.stderr.buffer.write(base64.b64decode(res.get("stderr", "")))
    sys.stdout.flush()
    sys.stderr.flush()
    return int(res.get("status", 1))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
