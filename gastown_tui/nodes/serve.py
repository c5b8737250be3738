"""`gastown node serve --dir DIR`: what the town runs on a node over ssh. A small bridge: it makes sure the
node daemon (nodes/node_daemon.py: the owner of this node's polecat PTYs) is running, starting it
detached when it is not, and hands it the ssh channel — its stdin and stdout, passed as file descriptors
over the daemon's Unix socket — then waits until the daemon is done with them. No byte goes through the
bridge, so a remote keystroke crosses no extra process.

When the link drops, ssh ends this bridge; the daemon and its programs go on, and the town's next
connection resumes each session from the last byte it saw (docs/nodes.md, "Faults"). It imports no
asyncio: it starts on every reconnect, and a quick start is a quick resume."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

START_TIMEOUT = 15.0


def daemon_dir(root: Path) -> Path:
    return Path(root) / "daemon"


SOCKET_PATH_MAX = 100  # a Unix socket address holds 108 bytes


def short_socket(near: Path) -> Path:
    """`near` when a Unix socket address can hold it; else `$XDG_RUNTIME_DIR/gastown-node/<key>.sock` or
    `/tmp/gastown-node-<uid>/<key>.sock` (key: sha256 of `near`), in a 0700 folder that must be ours."""
    text = os.fsencode(str(near))
    if len(text) < SOCKET_PATH_MAX:
        return near
    import hashlib

    base = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(base) / "gastown-node" if base and os.path.isdir(base) else Path(f"/tmp/gastown-node-{os.getuid()}")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.lstat()
    if info.st_uid != os.getuid() or not os.path.isdir(folder) or os.path.islink(folder):
        raise OSError(f"{folder}: not a folder of this user's (a socket for {near} cannot go there)")
    os.chmod(folder, 0o700)
    return folder / (hashlib.sha256(text).hexdigest()[:16] + ".sock")


def socket_path(root: Path) -> Path:
    """The daemon's socket: 0600, in a 0700 folder under the node's folder (or, when that path is too long
    for a socket address, in a 0700 folder of this user's; see `short_socket`)."""
    return short_socket(daemon_dir(root) / "node.sock")


def _connect(sock_path: Path) -> socket.socket | None:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(str(sock_path))
        return s
    except OSError:
        s.close()
        return None


def start_daemon(root: Path) -> None:
    """The daemon in its own session (setsid), detached from this ssh session, logging under DIR."""
    ddir = daemon_dir(root)
    ddir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(ddir, 0o700)
    with open(ddir / "daemon.log", "ab") as logf:
        subprocess.Popen([sys.executable, "-m", "gastown_tui.nodes.node_daemon", "--dir", str(root)],
                         stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True,
                         close_fds=True, cwd=str(root))


def connect_daemon(root: Path, timeout: float = START_TIMEOUT) -> socket.socket:
    sock_path = socket_path(root)
    s = _connect(sock_path)
    if s is not None:
        return s
    start_daemon(root)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = _connect(sock_path)
        if s is not None:
            return s
        time.sleep(0.05)
    log = daemon_dir(root) / "daemon.log"
    tail = log.read_text(errors="replace")[-400:] if log.exists() else ""
    raise SystemExit(f"gastown node serve: the node daemon did not start within {timeout:g}s ({log}): {tail}")


def serve_stdio(dir: str) -> int:
    root = Path(dir).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    root = root.resolve()
    s = connect_daemon(root)
    try:  # the channel itself goes to the daemon: it reads and writes the ssh pipes directly
        socket.send_fds(s, [b"fds"], [0, 1])
        while s.recv(4096):  # ...until it is done with them (the link dropped, or a newer town took over)
            pass
    except OSError:
        pass
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(serve_stdio(sys.argv[1]))
