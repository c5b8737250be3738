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
from gastown_tui import __version__

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


def daemon_version(root: Path) -> str | None:
    """The version the running daemon wrote at its start (None: no daemon, or one older than the file)."""
    try:
        return (daemon_dir(root) / "daemon.version").read_text().strip() or None
    except OSError:
        return None


def replace_idle_daemon(root: Path, timeout: float = 10.0) -> str:
    """A daemon of another gastown version than this code's is asked to end when it runs nothing (it says
    no while it has programs: they go on). What happened, in a few words."""

    root = Path(root).expanduser().resolve()
    theirs = daemon_version(root)
    if theirs == __version__:
        return "the node daemon already runs this version"
    s = _connect(socket_path(root))
    if s is None:
        return "no node daemon runs"
    try:
        s.settimeout(timeout)
        s.sendall(b"replace")
        answer = s.recv(64).decode(errors="replace")
    except OSError as exc:
        return f"the node daemon did not answer ({exc})"
    finally:
        s.close()
    if not answer.startswith("yes"):
        n = answer.split()[1] if len(answer.split()) > 1 else "?"
        return (f"the node daemon ({theirs or 'an older version'}) still runs {n} program(s): it is replaced when "
                f"they have ended (nothing new is placed on this node meanwhile)")
    deadline = time.monotonic() + timeout
    pidfile = daemon_dir(root) / "daemon.pid"
    while time.monotonic() < deadline:
        probe = _connect(socket_path(root)) if pidfile.exists() else None
        if probe is None:
            return f"the node daemon ({theirs or 'an older version'}) ended; the next connection starts {__version__}"
        probe.close()
        time.sleep(0.05)
    return "the node daemon said it would end but still runs"


def connect_daemon(root: Path, timeout: float = START_TIMEOUT) -> socket.socket:
    sock_path = socket_path(root)

    if daemon_version(root) not in (None, __version__):
        replace_idle_daemon(root)  # an idle daemon of another version makes way for this one's
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
