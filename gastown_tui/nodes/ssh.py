"""Running things on a node with the system `ssh` client, never prompting.

Every call passes BatchMode=yes (no password or passphrase prompt) and StrictHostKeyChecking=yes (an
unknown or changed host key fails instead of asking), so ~/.ssh/config Hosts, agents and keys work as
they do for the user's own ssh. GASTOWN_SSH_CONFIG names another config file (`ssh -F`): the tests use
it so the user's ~/.ssh is never read. ssh's failures become one line naming the node."""
from __future__ import annotations

import os
import shlex
import subprocess

from gastown_tui.errors import UserError
from gastown_tui.nodes.registry import Node

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
    """GIT_SSH_COMMAND for git talking to this node with the same strict, non-prompting options."""
    parts = ["ssh", *ssh_options()]
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


def run(node: Node, command: str, *, timeout: float = 60.0, input: bytes | None = None) -> subprocess.CompletedProcess:
    """Runs COMMAND on the node; NodeError (one line, naming the node) when ssh cannot connect."""
    try:
        res = subprocess.run(ssh_argv(node, command), input=input, capture_output=True, timeout=timeout,
                             stdin=None if input is not None else subprocess.DEVNULL)
    except FileNotFoundError:
        raise NodeError(f"node {node.name}: the ssh client is not installed here") from None
    except subprocess.TimeoutExpired:
        raise NodeError(f"node {node.name} ({node.where}): no answer within {timeout:g}s") from None
    if res.returncode == 255:
        raise NodeError(explain(node, res.stderr.decode(errors="replace")))
    return res
