"""Which agent is calling: the peer's pid (SO_PEERCRED) traced to a session's process tree.

The caller is the agent whose program is the peer or one of its ancestors; a process that left the tree
(setsid, double fork) is matched by the GT_SESSION_ID its own environment carries (read from /proc, not
from what the client says). The environment the client sends is only a hint and never overrides this.
"""
from __future__ import annotations

import os
import socket
import struct


def peer_credentials(sock: socket.socket) -> tuple[int, int, int]:
    """(pid, uid, gid) of the process at the other end of a Unix socket."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)


def _ppid(pid: int) -> int:
    return _stat(pid)[0]


def _read(path: str) -> bytes:
    """A whole /proc file (plain os calls: a buffered file object costs more than the read)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        parts = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)
    finally:
        os.close(fd)


def _stat(pid: int) -> tuple[int, int]:
    """(parent pid, start time in clock ticks since boot) of PID; (0, 0) when it is gone."""
    try:
        fields = _read(f"/proc/{pid}/stat").rsplit(b")", 1)[1].split()
        return int(fields[1]), int(fields[19])
    except (OSError, IndexError, ValueError):
        return 0, 0


def _session_id_of(pid: int) -> str | None:
    try:
        env = _read(f"/proc/{pid}/environ")
    except OSError:
        return None
    if env.startswith(b"GT_SESSION_ID="):
        at = 0
    else:
        at = env.find(b"\0GT_SESSION_ID=") + 1
        if at == 0:
            return None
    end = env.find(b"\0", at)
    return env[at + len(b"GT_SESSION_ID="):end if end >= 0 else len(env)].decode(errors="replace")


def agent_of(pid: int, sessions, known: dict | None = None) -> str | None:
    """The address of the live session whose tree holds PID, or None (a human's shell, a test).

    KNOWN (optional, kept by the caller between calls) remembers, for each process met on the way up (by
    pid and start time, so a reused pid is a new process), which session's tree it is in: the next call
    from the same shell stops at its first known ancestor. It is emptied whenever the live sessions
    change: a process never moves into a session's tree, and one that was in it (even if re-parented
    since, its parent having died) was started by that session's agent."""
    live = [s for s in sessions if s.pid and not s.exited]
    by_pid = {s.pid: s for s in live}
    if known is not None:
        key = tuple(sorted((s.pid, s.id) for s in live))
        if known.get("sessions") != key or len(known) > 4096:
            known.clear()
            known["sessions"] = key
    found = None
    met = []
    seen = 0
    p = pid
    while p > 1 and seen < 64:
        s = by_pid.get(p)
        if s is not None:
            found = s.agent
            break
        ppid, started = _stat(p)
        if known is not None and (p, started) in known:
            found = known[(p, started)]
            break
        met.append((p, started))
        p = ppid
        seen += 1
    if known is not None and (found is not None or p <= 1):  # a whole answer (not cut off at 64 levels)
        for step in met:
            if step[1]:
                known[step] = found
    if found is not None:
        return found
    sid = _session_id_of(pid)
    if sid:
        for s in live:
            if s.id == sid:
                return s.agent
    return None
