"""Running things on a node with the system `ssh` client, never prompting.

Every call passes BatchMode=yes (no password or passphrase prompt) and StrictHostKeyChecking=yes (an
unknown or changed host key fails instead of asking), so ~/.ssh/config Hosts, agents and keys work as
they do for the user's own ssh. GASTOWN_SSH_CONFIG names another config file (`ssh -F`): the tests use
it so the user's ~/.ssh is never read. ssh's failures become one line naming the node."""
from __future__ import annotations

import hashlib
import os
import shlex
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

from gastown_tui.errors import UserError
from gastown_tui.nodes.registry import Node
from gastown_tui.filelock import file_lock

CONNECT_TIMEOUT = 10


class NodeError(UserError):
    """Something about a node (unreachable, refused, missing a program); the message names the node."""


def ssh_options() -> list[str]:
    opts = []
    config = os.environ.get("GASTOWN_SSH_CONFIG")
    if config:
        opts += ["-F", config]
    return opts + ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                   "-o", f"ConnectTimeout={CONNECT_TIMEOUT}", "-o", "LogLevel=ERROR"]


# -- one connection per node for the town's short commands (checks, git, installs) ---------------------
#
# Each `ssh` login costs a process start, a key exchange and an authentication: 0.4-0.6 s on a loaded
# 2-core box, and a remote sling made four of them. So `run()` and git share one OpenSSH master
# connection per node (ControlMaster), started once with `ssh -fN` (its output goes to a file, never to
# a pipe a caller waits on) and kept ControlPersist seconds after its last use; with keepalives, so a cut
# link ends it. A missing or dead master is started again; when the master cannot be used, ssh itself
# falls back to a direct login. The socket name hashes the ssh config file too, so a master never
# carries the commands of another configuration (another known_hosts). The node link (`node serve`)
# keeps its own connection: its drops and reconnects are its own.
CONTROL_PERSIST = 120
_masters: set[str] = set()
_start_locks: dict[str, threading.Lock] = {}
_locks_lock = threading.Lock()


def control_dir() -> Path | None:
    """The folder of the master sockets (0700, ours), or None when it cannot be trusted."""
    base = Path(os.environ.get("GASTOWN_SSH_CONTROL_DIR") or f"/tmp/gastown-ssh-{os.getuid()}")
    try:
        base.mkdir(mode=0o700, exist_ok=True)
        st = base.stat()
    except OSError:
        return None
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    return base


def control_path(node: Node) -> str | None:
    base = control_dir()
    if base is None:
        return None
    key = "|".join([os.environ.get("GASTOWN_SSH_CONFIG", ""), node.user or "", node.host, str(node.port or "")])
    return str(base / hashlib.sha1(key.encode()).hexdigest()[:20])


def _alive(path: str) -> bool:
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(path)
            return True
        except OSError:
            return False


def mux_options(node: Node) -> list[str]:
    """The options that make an ssh (or git's ssh) use the node's master connection, started here when it
    is missing (one login; NodeError naming the node when that login fails)."""
    path = control_path(node)
    if path is None:
        return []
    if not (os.path.exists(path) and _alive(path)):

        with _locks_lock:
            here = _start_locks.setdefault(path, threading.Lock())
        with here, file_lock(Path(path + ".lock"), timeout=60, what=f"ssh master lock of node {node.name}"):
            if not (os.path.exists(path) and _alive(path)):
                if os.path.exists(path):
                    os.unlink(path)  # a master killed without cleaning up
                _start_master(node, path)
    return ["-o", "ControlMaster=no", "-o", f"ControlPath={path}"]


def _start_master(node: Node, path: str) -> None:
    argv = ["ssh", *ssh_options(), "-o", "ControlMaster=yes", "-o", f"ControlPath={path}",
            "-o", f"ControlPersist={CONTROL_PERSIST}", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
            "-f", "-N"]
    if node.port:
        argv += ["-p", str(node.port)]
    if node.user:
        argv += ["-l", node.user]
    argv += ["--", node.host]
    with tempfile.TemporaryFile() as err:
        try:
            res = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                 timeout=CONNECT_TIMEOUT + 30)
        except FileNotFoundError:
            raise NodeError(f"node {node.name}: the ssh client is not installed here") from None
        except subprocess.TimeoutExpired:
            raise NodeError(f"node {node.name} ({node.where}): no answer within {CONNECT_TIMEOUT + 30}s") from None
        if res.returncode != 0:
            err.seek(0)
            raise NodeError(explain(node, err.read().decode(errors="replace")))
    _masters.add(path)


def close_masters() -> None:
    """Ends the master connections this process started (the tests' labs call it when they close)."""
    for path in list(_masters):
        if os.path.exists(path):
            subprocess.run(["ssh", "-o", f"ControlPath={path}", "-O", "exit", "placeholder"], capture_output=True,
                           stdin=subprocess.DEVNULL, timeout=10)
        _masters.discard(path)


def ssh_argv(node: Node, command: str | None = None, *, extra: list[str] | None = None) -> list[str]:
    """`ssh ... host -- command`: COMMAND is one shell string run by the node's login shell."""
    argv = ["ssh", *ssh_options(), *(extra or [])]
    if node.port:
        argv += ["-p", str(node.port)]
    if node.user:
        argv += ["-l", node.user]
    argv += ["--", node.host]
    if command is not None:
        argv.append(command)
    return argv


def git_ssh_command(node: Node) -> str:
    """GIT_SSH_COMMAND for git talking to this node with the same strict, non-prompting options, over the
    node's master connection."""
    parts = ["ssh", *ssh_options(), *mux_options(node)]
    if node.port:
        parts += ["-p", str(node.port)]
    return " ".join(shlex.quote(p) for p in parts)


def git_url(node: Node, path: str) -> str:
    """An scp-like git address of PATH on the node (the port goes in GIT_SSH_COMMAND)."""
    user = f"{node.user}@" if node.user else ""
    return f"{user}{node.host}:{path}"


def explain(node: Node, stderr: str) -> str:
    """One line naming the node for an ssh connection failure (ssh exited 255)."""
    text = stderr.strip()
    low = text.lower()
    who = f"node {node.name} ({node.where})"
    if "remote host identification has changed" in low:
        return f"{who}: its host key CHANGED since it was trusted; check why before fixing known_hosts"
    if "host key verification failed" in low or "no ed25519 host key is known" in low or "host key is known" in low:
        return (f"{who}: unknown host key; check its fingerprint and add it to known_hosts "
                f"(e.g. ssh-keyscan{' -p ' + str(node.port) if node.port else ''} {node.host}), nothing was run there")
    if "permission denied" in low:
        return f"{who}: login refused (no accepted key for {node.user or 'this user'}; passwords are never asked)"
    if "connection refused" in low:
        return f"{who}: connection refused (no sshd listening?)"
    if "could not resolve hostname" in low or "name or service not known" in low:
        return f"{who}: unknown host name"
    if "timed out" in low:
        return f"{who}: connection timed out"
    if not text:
        return f"{who}: the ssh connection ended with no message (the link dropped or keepalives went unanswered)"
    return f"{who}: ssh failed: {text.splitlines()[-1]}"


def run(node: Node, command: str, *, timeout: float = 60.0, input: bytes | None = None,
        mux: bool = True) -> subprocess.CompletedProcess:
    """Runs COMMAND on the node; NodeError (one line, naming the node) when ssh cannot connect. MUX: over the
    node's shared connection; False: a login of its own (what a check of the node's sshd needs)."""
    try:
        res = subprocess.run(ssh_argv(node, command, extra=mux_options(node) if mux else None), input=input,
                             capture_output=True,
                             timeout=timeout,
                             stdin=None if input is not None else subprocess.DEVNULL)
    except FileNotFoundError:
        raise NodeError(f"node {node.name}: the ssh client is not installed here") from None
    except subprocess.TimeoutExpired:
        raise NodeError(f"node {node.name} ({node.where}): no answer within {timeout:g}s") from None
    if res.returncode == 255:
        raise NodeError(explain(node, res.stderr.decode(errors="replace")))
    return res
