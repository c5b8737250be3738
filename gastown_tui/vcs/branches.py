"""Branches: existence, commits ahead of a target, unmerged work, pushes."""
from __future__ import annotations

from pathlib import Path

from gastown_tui.vcs.errors import GitError, open_repo, run_git


def rev_parse(repo_path: Path, ref: str) -> str | None:
    """The commit sha REF names, or None when it names nothing."""
    repo = open_repo(repo_path)
    try:
        return run_git(repo, f"resolving {ref}", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitError:
        return None


def head_sha(repo_path: Path) -> str:
    sha = rev_parse(repo_path, "HEAD")
    if sha is None:
        raise GitError(f"reading HEAD of {repo_path}", "HEAD names no commit")
    return sha


def branch_exists(repo_path: Path, branch: str) -> bool:
    return rev_parse(repo_path, f"refs/heads/{branch}") is not None


def current_branch(repo_path: Path) -> str | None:
    """The checked-out branch, or None on a detached HEAD."""
    repo = open_repo(repo_path)
    try:
        return run_git(repo, "reading HEAD", "symbolic-ref", "--quiet", "--short", "HEAD") or None
    except GitError:
        return None


def delete_branch(repo_path: Path, branch: str, *, force: bool = False) -> None:
    run_git(open_repo(repo_path), f"deleting branch {branch}", "branch", "-D" if force else "-d", branch)


def commits_ahead(repo_path: Path, branch: str, target: str) -> list[tuple[str, str]]:
    """[(sha, subject)] of commits on BRANCH not reachable from TARGET, oldest first."""
    repo = open_repo(repo_path)
    out = run_git(repo, f"comparing {branch} with {target}", "log", "--reverse", "--format=%H %s",
                  branch, "--not", target, "--")
    return [(line[:40], line[41:]) for line in out.splitlines() if line]


def unmerged_commits(repo_path: Path, branch: str, target: str) -> list[tuple[str, str]]:
    """[(sha, subject)] of commits on BRANCH whose change is not on TARGET.

    Uses patch identity (`git cherry`), so work that landed rebased still counts as merged.
    """
    repo = open_repo(repo_path)
    out = run_git(repo, f"comparing {branch} with {target}", "cherry", "-v", target, branch)
    result = []
    for line in out.splitlines():
        if line.startswith("+ "):
            sha, _, subject = line[2:].partition(" ")
            result.append((sha, subject))
    return result


def fetch(repo_path: Path, remote: str = "origin") -> None:
    run_git(open_repo(repo_path), f"fetching {remote}", "fetch", "--prune", remote)


def push_branch(repo_path: Path, branch: str, remote: str = "origin", *, force: bool = False) -> str:
    """Pushes BRANCH to the same name on REMOTE; returns the pushed sha. GitError says what git said."""
    repo = open_repo(repo_path)
    args = ["push", "--porcelain", remote, f"refs/heads/{branch}:refs/heads/{branch}"]
    if force:
        args.insert(1, "--force")
    run_git(repo, f"pushing {branch} to {remote}", *args)
    return head_sha_of(repo_path, branch)


def head_sha_of(repo_path: Path, branch: str) -> str:
    sha = rev_parse(repo_path, f"refs/heads/{branch}")
    if sha is None:
        raise GitError(f"reading branch {branch}", "no such branch")
    return sha
