"""GitError: a git operation failed; the message carries what git said."""
from __future__ import annotations

from gastown_tui.errors import UserError


class GitError(UserError):
    """A git command failed. `.stderr` is git's own message."""

    def __init__(self, action: str, stderr: str = "", command: str = ""):
        self.action = action
        self.stderr = (stderr or "").strip()
        self.command = command
        said = self.stderr.replace("\n", " | ") if self.stderr else "no message"
        super().__init__(f"{action} failed: git said: {said}")


def git_stderr(exc) -> str:
    """What git said in a GitPython `GitCommandError` (decoded, without GitPython's "stderr: '...'" wrapping)."""
    stderr = exc.stderr or ""
    if isinstance(stderr, bytes):
        stderr = stderr.decode(errors="replace")
    stderr = stderr.strip()
    if stderr.startswith("stderr:"):
        stderr = stderr[len("stderr:"):].strip().strip("'")
    return stderr or str(exc)


def run_git(repo, action: str, *args, **kwargs) -> str:
    """Runs `git ARGS` through GitPython's `repo.git`, raising GitError with git's stderr."""
    import git  # deferred: GitPython costs ~100 ms; `vcs.errors` is imported by commands that never run git

    try:
        return repo.git.execute(["git", *args], **kwargs)
    except git.GitCommandError as exc:
        raise GitError(action, git_stderr(exc), " ".join(str(a) for a in args)) from None


def open_repo(path):
    """A GitPython Repo for a path (bare repos and worktrees included); GitError when it is not one."""
    import git  # deferred: see run_git

    try:
        return git.Repo(str(path))
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise GitError(f"opening repository {path}", "not a git repository") from None
