"""Bare clones (a rig's shared repo) and full clones (the mayor's and crew's)."""
from __future__ import annotations

from pathlib import Path
from types import ModuleType

from gastown_tui.vcs.errors import GitError, git_stderr, open_repo, run_git


def _git() -> ModuleType:
    import git  # deferred: GitPython costs ~100 ms; see vcs.errors.run_git

    return git


def clone_bare(source: str | Path, dest: Path) -> Path:
    """Clones SOURCE (a path or URL) into a bare repo at DEST; origin = SOURCE."""
    git = _git()
    dest = Path(dest)
    src = str(source)
    if Path(src).exists():
        src = str(Path(src).resolve())
    try:
        git.Repo.clone_from(src, str(dest), bare=True)
    except git.GitCommandError as exc:
        raise GitError(f"cloning {source}", git_stderr(exc)) from None
    repo = open_repo(dest)
    # A bare clone has no remote-tracking refs; give it the usual fetch refspec so `fetch` works.
    run_git(repo, "configuring the bare repo", "config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*")
    # The target branch is checked out in the Refinery's worktree; pushes to it (crew landing work
    # directly) update that clean worktree instead of being refused.
    run_git(repo, "configuring the bare repo", "config", "receive.denyCurrentBranch", "updateInstead")
    return dest


def clone(source: str | Path, dest: Path, branch: str | None = None) -> Path:
    """A full clone (working tree) of SOURCE at DEST, on BRANCH or the default branch."""
    git = _git()
    kwargs = {"branch": branch} if branch else {}
    try:
        git.Repo.clone_from(str(source), str(dest), **kwargs)
    except git.GitCommandError as exc:
        raise GitError(f"cloning {source}", git_stderr(exc)) from None
    return Path(dest)


def default_branch(repo_path: Path) -> str:
    """The branch HEAD points to (for a bare clone: the source's default branch)."""
    repo = open_repo(repo_path)
    ref = run_git(repo, "reading HEAD", "symbolic-ref", "--quiet", "HEAD")
    return ref.removeprefix("refs/heads/")


def set_head(repo_path: Path, branch: str) -> None:
    """Points HEAD of a (bare) repo at BRANCH."""
    repo = open_repo(repo_path)
    run_git(repo, f"setting HEAD to {branch}", "symbolic-ref", "HEAD", f"refs/heads/{branch}")

