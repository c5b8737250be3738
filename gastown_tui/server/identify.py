"""Which agent is calling: the peer's pid (SO_PEERCRED) traced to a session's process tree.

The caller is the agent whose program is the peer or one of its ancestors; a process that left the tree
(setsid, double fork) is matched by the GT_SESSION_ID its own environment carries (read from /proc, not
from what the client says). The environment the client sends is only a hint and never overrides this.
"""
from __future__ import annotations

import socket
import struct


def peer_credentials(sock: socket.socket) -> tuple[int, int, int]:
    """(pid, uid, gid) of the process at the other end of a Unix socket."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)


def _ppid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return int(fh.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _session_id_of(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            env = fh.read()
    except OSError:
        return None
    for var in env.split(b"\0"):
        if var.startswith(b"GT_SESSION_ID="):
            return var[len(b"GT_SESSION_ID="):].decode(errors="replace")
    return None


def agent_of(pid: int, sessions) -> str | None:
    """The address of the live session whose tree holds PID, or None (a human's shell, a test)."""
    by_pid = {s.pid: s for s in sessions if s.pid and not s.exited}
    seen = 0
    p = pid
    while p > 1 and seen < 64:
        s = by_pid.get(p)
        if s is not None:
            return s.agent
        p = _ppid(p)
        seen += 1
    sid = _session_id_of(pid)
    if sid:
        for s in sessions:
            if s.id == sid and not s.exited:
                return s.agent
    return None
