"""Where a town's server listens, locks and logs. Standard library only: the thin `gt`/`bd` client
(gastown_tui/thin/client.py, run with `python -S`) loads this one file by path.

The socket is `<town>/.runtime/server.sock` when that path is shorter than SOCKET_PATH_MAX bytes (a Unix
socket address holds 108 bytes); otherwise `$XDG_RUNTIME_DIR/gastown/<sha256(town)[:16]>.sock`, or
`/tmp/gastown-<uid>/<same>.sock` without XDG_RUNTIME_DIR. The socket's directory is 0700.
"""
from __future__ import annotations

import os

SOCKET_PATH_MAX = 100
MARKER = os.path.join("mayor", "town.json")
ENV_SOCKET = "GASTOWN_SOCKET"  # overrides the computed path (tests, debugging)


def runtime_dir(town_root: str) -> str:
    return os.path.join(os.path.realpath(town_root), ".runtime")


def socket_path(town_root: str, environ=None) -> str:
    environ = os.environ if environ is None else environ
    town = os.path.realpath(town_root)
    near = os.path.join(town, ".runtime", "server.sock")
    if len(near.encode("utf-8", "surrogateescape")) < SOCKET_PATH_MAX:
        return near
    import hashlib

    key = hashlib.sha256(town.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    base = environ.get("XDG_RUNTIME_DIR")
    folder = os.path.join(base, "gastown") if base and os.path.isdir(base) else f"/tmp/gastown-{os.getuid()}"
    return os.path.join(folder, key + ".sock")


def lock_path(town_root: str) -> str:
    return os.path.join(runtime_dir(town_root), "server.lock")


def log_path(town_root: str) -> str:
    return os.path.join(runtime_dir(town_root), "server.log")


def find_town_root(cwd: str, environ=None) -> str | None:
    """GT_TOWN if it is a town, else the nearest folder at or above CWD holding mayor/town.json."""
    environ = os.environ if environ is None else environ
    named = environ.get("GT_TOWN")
    if named:
        root = os.path.realpath(os.path.expanduser(named))
        return root if os.path.isfile(os.path.join(root, MARKER)) else None
    here = os.path.realpath(cwd)
    while True:
        if os.path.isfile(os.path.join(here, MARKER)):
            return here
        up = os.path.dirname(here)
        if up == here:
            return None
        here = up


def socket_for(cwd: str, environ=None) -> str | None:
    """The socket a client in CWD talks to: GASTOWN_SOCKET, else its town's; None outside a town."""
    environ = os.environ if environ is None else environ
    if environ.get(ENV_SOCKET):
        return environ[ENV_SOCKET]
    town = find_town_root(cwd, environ)
    return socket_path(town, environ) if town else None


def private_dir(folder: str) -> None:
    """Creates FOLDER (0700) if needed; refuses one another user owns or others may write."""
    os.makedirs(folder, mode=0o700, exist_ok=True)
    st = os.stat(folder)
    if st.st_uid != os.getuid():
        raise PermissionError(f"{folder} belongs to uid {st.st_uid}, not {os.getuid()}")
    if st.st_mode & 0o077:
        os.chmod(folder, 0o700)
