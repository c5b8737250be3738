"""The holder (gastown_tui/server/keeper.py): where a stopped keeper leaves its agents' PTYs until the next
keeper of the town takes them over (`Keeper.hand_off` / `Keeper.take_over`), and how to stop it when none does.

Stdlib only, like the keeper (it runs with `python -S`).
"""
from __future__ import annotations

import os
import socket

if __package__:
    from .keeper_wire import send
else:  # run as `python -S keeper.py`: the keeper's folder is on sys.path
    from keeper_wire import send


def hold_address(town: str) -> bytes:
    """The holder's abstract Unix socket name (Linux: no file, no path limit) for TOWN and this user."""
    import hashlib

    key = hashlib.sha256(os.path.realpath(town).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"\0gastown-keeper-hold-{os.getuid()}-{key}".encode()


def stop_holder(town: str) -> bool:
    """Stops the agents a stopped keeper left with a holder (no keeper took them over); False if none."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        conn.connect(hold_address(town))
        conn.settimeout(30)
        send(conn, {"op": "stop"})
        conn.recv(16)  # the holder closes the connection when its agents are stopped
        return True
    except OSError:
        return False
    finally:
        conn.close()
