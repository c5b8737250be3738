"""The keeper's wire (gastown_tui/server/keeper.py): one JSON object per SOCK_SEQPACKET datagram, PTY fds as
SCM_RIGHTS, and the few process helpers the keeper needs (its log line, wait statuses, the subreaper bit).

Stdlib only, like the keeper (it runs with `python -S`); see "Keeper link" in docs/protocol.md.
"""
from __future__ import annotations

import ctypes
import json
import os
import socket
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
ENV_FD = "GASTOWN_KEEPER_FD"
MAX_MSG = 1 << 20
FDS_PER_MSG = 200  # SCM_MAX_FD is 253 on Linux


def log(msg: str) -> None:
    sys.stderr.write(f"{time.strftime('%H:%M:%S')} keeper[{os.getpid()}] {msg}\n")
    sys.stderr.flush()


def become_subreaper() -> bool:
    """Orphaned descendants are re-parented to this process (Linux); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def status_of(wait_status: int) -> int:
    """A wait status as sessions record it: the exit code, or -signal."""
    if os.WIFSIGNALED(wait_status):
        return -os.WTERMSIG(wait_status)
    if os.WIFEXITED(wait_status):
        return os.WEXITSTATUS(wait_status)
    return -1


def send(sock: socket.socket, msg: dict, fds: list[int] = ()) -> None:
    data = json.dumps(msg, separators=(",", ":")).encode()
    if fds:
        socket.send_fds(sock, [data], list(fds))
    else:
        sock.send(data)


def recv(sock: socket.socket) -> tuple[dict | None, list[int]]:
    """One message and its fds; (None, []) at end of stream."""
    data, fds, _flags, _addr = socket.recv_fds(sock, MAX_MSG, FDS_PER_MSG + 16)
    for fd in fds:
        os.set_inheritable(fd, False)
    if not data:
        for fd in fds:
            os.close(fd)
        return None, []
    try:
        msg = json.loads(data)
    except ValueError:
        msg = None
    if not isinstance(msg, dict):
        for fd in fds:
            os.close(fd)
        return {"op": "?", "bad": data[:80].decode("utf-8", "replace")}, []
    return msg, fds
