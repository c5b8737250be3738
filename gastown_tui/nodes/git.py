"""A remote polecat's git: its worktree on the node made from the rig's bare repo, and its branch brought
back, all over SSH and all started by the town (the node holds no credentials for the town).

    <node dir>/repos/<rig>.git         a bare mirror of the rig's target branch, pushed by the town
    <node dir>/polecats/<rig>/<name>   the polecat's clone of it, on its branch polecat/<name>/...

Collecting is a fetch by the town of exactly that polecat's branch from that polecat's clone into the
rig's bare repo: the town names both the source and the destination ref, so a node can deliver only
its own polecats' branches (`polecat/<name>/...`), never another's and never the target."""
from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gastown_tui.errors import UserError
from gastown_tui.nodes.registry import Node
from gastown_tui.nodes.ssh import NodeError, git_ssh_command, git_url, run
from gastown_tui.nodes.ssh import explain


def _remote(path: str) -> str:
    """PATH for the node's shell: a leading ~/ becomes "$HOME"/, the rest is quoted."""
    if path == "~":
        return '"$HOME"'
    if path.startswith("~/"):
        return '"$HOME"/' + shlex.quote(path[2:])
    return shlex.quote(path)


remote_path = _remote  # (for the check's probe)


def node_root(node: Node) -> str:
    """The node's folder as an absolute path (made if missing)."""
    d = _remote(node.dir)
    res = run(node, f"mkdir -p {d} && cd {d} && pwd -P")
    if res.returncode != 0:
        raise NodeError(f"node {node.name}: cannot make its folder {node.dir}: "
                        f"{res.stderr.decode(errors='replace').strip()}")
    return res.stdout.decode().strip()


@dataclass(frozen=True)
class RemoteWorktree:
    node: str
    rig: str
    polecat: str
    branch: str
    root: str  # the node's folder, absolute
    mirror: str
    path: str

    @property
    def relative(self) -> str:
        """The worktree relative to the node's folder (what `node serve` spawns in)."""
        return os.path.relpath(self.path, self.root)


def _git_env(node: Node) -> dict[str, str]:
    return {**os.environ, "GIT_SSH_COMMAND": git_ssh_command(node), "GIT_TERMINAL_PROMPT": "0"}


def _local_git(node: Node, repo: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    res = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=timeout,
                         env=_git_env(node), stdin=subprocess.DEVNULL)
    if res.returncode != 0:
        err = res.stderr.strip()
        if "Host key verification failed" in err or "Permission denied" in err:

            raise NodeError(explain(node, err))
        raise NodeError(f"node {node.name}: git {args[0]} failed: {err.splitlines()[-1] if err else res.returncode}")
    return res


def check_branch(polecat: str, branch: str) -> None:
    if not branch.startswith(f"polecat/{polecat}/") and not branch.startswith(f"polecat/{polecat}@"):
        raise UserError(f"branch {branch!r} is not polecat {polecat}'s (polecat/{polecat}/...)")


def _git_path(path: str) -> str:
    """PATH as git's scp-like address wants it: a leading ~/ becomes relative (git resolves a relative path
    from the login folder, the home); an absolute path stays."""
    if path in ("~", "~/"):
        return "."
    return path[2:] if path.startswith("~/") else path


def push_mirror(node: Node, rig_repo: Path, rig_name: str, target: str) -> str:
    """Pushes the rig's TARGET into the node's bare mirror `<dir>/repos/<rig>.git`, made by the same login
    (git's --receive-pack runs `git init` first): one ssh session. The mirror, relative to the node's dir."""
    d = _remote(node.dir)
    mirror_rel = f"repos/{rig_name}.git"
    receive = (f"mkdir -p {d}/repos >/dev/null 2>&1 && git init -q --bare {d}/{shlex.quote(mirror_rel)} "
               f">/dev/null 2>&1 && git-receive-pack")
    _local_git(node, rig_repo, "push", "-q", "--force", f"--receive-pack={receive}",
               git_url(node, f"{_git_path(node.dir).rstrip('/')}/{mirror_rel}"),
               f"refs/heads/{target}:refs/heads/{target}")
    return mirror_rel


def clone_worktree(node: Node, mirror_rel: str, rig_name: str, target: str, polecat: str,
                   branch: str) -> RemoteWorktree:
    """The polecat's clone of the node's mirror, on BRANCH (one ssh session)."""
    check_branch(polecat, branch)
    rel = f"polecats/{rig_name}/{polecat}"
    script = (f"cd {_remote(node.dir)} && pwd -P && "
              f"{{ test ! -e {shlex.quote(rel)} || {{ echo \"exists: $(pwd -P)/{rel}\" >&2; exit 3; }}; }} && "
              f"git clone -q --branch {shlex.quote(target)} {shlex.quote(mirror_rel)} {shlex.quote(rel)} && "
              f"git -C {shlex.quote(rel)} checkout -q -b {shlex.quote(branch)}")
    res = run(node, script)
    if res.returncode != 0:
        raise NodeError(f"node {node.name}: cannot make {polecat}'s worktree: "
                        f"{res.stderr.decode(errors='replace').strip()}")
    root = res.stdout.decode().strip().splitlines()[0]
    return RemoteWorktree(node.name, rig_name, polecat, branch, root, f"{root}/{mirror_rel}", f"{root}/{rel}")


def make_worktree(node: Node, rig_repo: Path, rig_name: str, target: str, polecat: str, branch: str) -> RemoteWorktree:
    """Pushes the rig's TARGET to the node's mirror and clones the polecat's worktree from it, on BRANCH:
    two ssh sessions over the node's shared connection (nodes/ssh.py)."""
    check_branch(polecat, branch)
    return clone_worktree(node, push_mirror(node, rig_repo, rig_name, target), rig_name, target, polecat, branch)



def collect_branch(node: Node, rig_repo: Path, wt: RemoteWorktree) -> str:
    """Fetches the polecat's branch from its clone on the node into the rig's bare repo; its commit id.
    Only `refs/heads/<its branch>` is read, and only the same ref is written in the rig."""
    check_branch(wt.polecat, wt.branch)
    ref = f"refs/heads/{wt.branch}"
    _local_git(node, rig_repo, "fetch", "-q", "--no-tags", git_url(node, wt.path), f"+{ref}:{ref}")
    return _local_git(node, rig_repo, "rev-parse", ref).stdout.strip()


def remove_worktree(node: Node, wt: RemoteWorktree) -> None:
    run(node, f"rm -rf {shlex.quote(wt.path)}")


def collect_into_worktree(node: Node, local_worktree: Path, wt: RemoteWorktree) -> str:
    """Brings the polecat's branch from its clone on the node into its worktree in the town (which is on
    that same branch), so `gt done` then pushes it to the rig exactly as for a local polecat. Only
    `refs/heads/<its branch>` is read from the node. Its commit id."""
    check_branch(wt.polecat, wt.branch)
    local = Path(local_worktree)
    current = _local_git(node, local, "symbolic-ref", "--short", "HEAD").stdout.strip()
    if current != wt.branch:
        raise NodeError(f"node {node.name}: {local} is on {current}, not {wt.branch}; nothing was collected")
    _local_git(node, local, "fetch", "-q", "--no-tags", git_url(node, wt.path), f"refs/heads/{wt.branch}")
    _local_git(node, local, "merge", "-q", "--ff-only", "FETCH_HEAD")
    return _local_git(node, local, "rev-parse", "HEAD").stdout.strip()
