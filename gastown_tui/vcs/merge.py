"""The Refinery's merge: rebase a branch onto the target, run the gate, fast-forward.

Everything happens in the Refinery's own worktree (a checkout of the target
branch that nobody else edits):

1. recover the worktree if a previous run died half-way (abort a rebase, go
   back to the target branch, drop stray edits to tracked files);
2. fetch from `remote` when one is given; find the branch locally or as
   `<remote>/<branch>` (absent -> `branch_missing`);
3. if every commit of the branch is already on the target (`git cherry`), the
   result is `merged` with `already=True` and nothing changes;
4. detach at the branch tip and `git rebase <target>`; on a conflict, collect
   the conflicting files, abort, and return `conflict`;
5. run the gate (a shell command line, e.g. ``python -m pytest -q``) on the
   rebased tree; non-zero exit or timeout -> `gate_failed` with the output's tail;
6. fast-forward the target to the rebased commit and push it to `remote`
   when one is given (a rejected push rolls the target back: `error`).

The polecat's branch itself is never moved or deleted here: on failure the
work stays where it was; on success the rebased copies are on the target and
the original branch is left for the dogs, who delete it only once `git cherry`
shows all of it on the target.
"""
from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import git

MERGED = "merged"
CONFLICT = "conflict"
GATE_FAILED = "gate_failed"
BRANCH_MISSING = "branch_missing"
ERROR = "error"


@dataclass
class MergeResult:
    """What one merge attempt did. `status` is one of the constants above."""

    status: str
    branch: str
    target: str
    base_sha: str | None = None  # target tip before the attempt
    merged_sha: str | None = None  # new target tip when merged
    commits: list[str] = field(default_factory=list)  # the rebased commits now on the target
    already: bool = False  # the branch's work was already on the target
    conflict_files: list[str] = field(default_factory=list)
    gate_command: str | None = None
    gate_returncode: int | None = None
    gate_tail: str = ""
    gate_seconds: float | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == MERGED

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class _Git:
    """Runs git in one worktree through GitPython, returning (status, stdout, stderr)."""

    def __init__(self, worktree: Path, env: dict[str, str] | None = None):
        self.cmd = git.Git(str(worktree))
        self.env = env or {}

    def run(self, *args: str) -> tuple[int, str, str]:
        status, out, err = self.cmd.execute(
            ["git", *args], with_extended_output=True, with_exceptions=False, env=self.env
        )
        return status, out, err

    def ok(self, *args: str) -> str:
        status, out, err = self.run(*args)
        if status != 0:
            raise MergeError(f"git {' '.join(args)} failed in {self.cmd.working_dir}: {(err or out).strip()}")
        return out

    def rev(self, ref: str) -> str | None:
        status, out, _ = self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        return out.strip() if status == 0 and out.strip() else None


class MergeError(Exception):
    """A git operation the merge cannot continue without failed; the message has git's words."""


def tail(text: str, lines: int = 40) -> str:
    """The last `lines` lines of `text`."""
    parts = text.rstrip("\n").splitlines()
    return "\n".join(parts[-lines:])


def unmerged_commits(repo: Path, branch: str, target: str) -> list[str]:
    """Commits on `branch` whose change is not on `target` (patch-id aware, so rebased copies count as merged)."""
    g = _Git(repo)
    if g.rev(branch) is None:
        raise MergeError(f"no branch {branch!r} in {repo}")
    out = g.ok("cherry", target, branch)
    return [line[2:].strip() for line in out.splitlines() if line.startswith("+")]


def gate_env() -> dict[str, str]:
    """The environment a gate runs in: ours, minus what would leak an outer test run or git state into it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX"))}
    return env


def run_gate(worktree: Path, command: str, timeout: float = 900.0, tail_lines: int = 40) -> tuple[int, str, float]:
    """Runs the gate command line in `worktree`; returns (exit status, output tail, seconds). Timeout -> status 124."""
    start = time.monotonic()
    try:
        proc = subprocess.run(
            command, shell=True, cwd=worktree, env=gate_env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, start_new_session=True,
        )
        out = proc.stdout.decode("utf-8", "replace")
        code = proc.returncode
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode("utf-8", "replace") + f"\n[gate timed out after {timeout:g}s]"
        code = 124
    return code, tail(out, tail_lines), time.monotonic() - start


def _recover(g: _Git, target: str) -> None:
    """Puts a worktree left half-way by a crashed run back on the target branch, clean."""
    gitdir = Path(g.ok("rev-parse", "--absolute-git-dir").strip())
    if (gitdir / "rebase-merge").exists() or (gitdir / "rebase-apply").exists():
        g.run("rebase", "--abort")
    status, head, _ = g.run("symbolic-ref", "--quiet", "--short", "HEAD")
    if status != 0 or head.strip() != target:
        g.run("reset", "--hard", "--quiet")
        g.ok("checkout", "--quiet", target)
    if g.ok("status", "--porcelain", "--untracked-files=no").strip():
        g.ok("reset", "--hard", "--quiet")


def merge_branch(
    worktree: Path,
    branch: str,
    *,
    target: str = "main",
    gate: str | None = None,
    remote: str | None = None,
    gate_timeout: float = 900.0,
    tail_lines: int = 40,
    committer: tuple[str, str] | None = None,
    progress: Callable[[str], object] | None = None,
) -> MergeResult:
    """Rebases `branch` onto `target` in `worktree`, runs `gate`, fast-forwards (and pushes). See module doc.

    `progress(stage)` is called with "rebasing" and "testing" as the merge gets there.
    """
    stage = progress or (lambda _stage: None)
    worktree = Path(worktree)
    env = {}
    if committer:
        env = {"GIT_COMMITTER_NAME": committer[0], "GIT_COMMITTER_EMAIL": committer[1]}
    g = _Git(worktree, env)
    result = MergeResult(status=ERROR, branch=branch, target=target, gate_command=gate)
    try:
        _recover(g, target)
        if remote:
            g.ok("fetch", "--quiet", "--prune", remote)
            remote_target = g.rev(f"refs/remotes/{remote}/{target}")
            if remote_target and g.run("merge-base", "--is-ancestor", "HEAD", remote_target)[0] == 0:
                g.ok("merge", "--ff-only", "--quiet", remote_target)
        source = g.rev(f"refs/heads/{branch}") or (remote and g.rev(f"refs/remotes/{remote}/{branch}"))
        base = g.rev("HEAD")
        result.base_sha = base
        if not source:
            result.status = BRANCH_MISSING
            where = f" or {remote}/{branch}" if remote else ""
            result.message = f"branch {branch!r}{where} not found from {worktree}"
            return result
        if base is None:
            raise MergeError(f"{target} in {worktree} has no commit to merge onto")
        pending = [l for l in g.ok("cherry", "HEAD", source).splitlines() if l.startswith("+")]
        if not pending:
            result.status, result.already, result.merged_sha = MERGED, True, base
            result.message = f"{branch} is already on {target}"
            return result
        stage("rebasing")
        g.ok("checkout", "--quiet", "--detach", source)
        status, out, err = g.run("rebase", "--quiet", target)
        if status != 0:
            files = g.run("diff", "--name-only", "--diff-filter=U")[1].split()
            g.run("rebase", "--abort")
            g.ok("checkout", "--quiet", "--force", target)
            result.status, result.conflict_files = CONFLICT, sorted(set(files))
            result.message = f"rebasing {branch} onto {target} conflicts in: {', '.join(result.conflict_files) or '(unknown files)'}"
            if not files:
                result.message += f"; git said: {tail((err or out).strip(), 5)}"
            return result
        rebased = g.rev("HEAD")
        if rebased is None:
            raise MergeError(f"HEAD in {worktree} is not a commit after rebasing {branch}")
        if gate:
            stage("testing")
            code, out_tail, seconds = run_gate(worktree, gate, gate_timeout, tail_lines)
            result.gate_returncode, result.gate_tail, result.gate_seconds = code, out_tail, seconds
            if code != 0:
                g.ok("checkout", "--quiet", "--force", target)
                result.status = GATE_FAILED
                result.message = f"gate {gate!r} exited {code} on {branch} rebased onto {target}"
                return result
        g.ok("checkout", "--quiet", "--force", target)
        g.ok("merge", "--ff-only", "--quiet", rebased)
        if remote:
            status, out, err = g.run("push", "--quiet", remote, f"{target}:{target}")
            if status != 0:
                g.ok("reset", "--hard", "--quiet", base)
                result.message = f"push of {target} to {remote} was rejected: {(err or out).strip()}"
                return result
        result.commits = g.ok("rev-list", "--reverse", f"{base}..{rebased}").split()
        result.status, result.merged_sha = MERGED, rebased
        result.message = f"merged {branch} onto {target} at {rebased[:10]} ({len(result.commits)} commit(s))"
        return result
    except MergeError as exc:
        result.status, result.message = ERROR, str(exc)
        try:
            _recover(g, target)
        except MergeError:
            pass
        return result
