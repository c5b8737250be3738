"""Git worktrees: the Refinery's and each polecat's checkout."""
from __future__ import annotations

from pathlib import Path

from gastown_tui.vcs.errors import open_repo, run_git


def add_worktree(repo_path: Path, path: Path, *, branch: str | None = None, start: str | None = None,
                 new_branch: bool = True) -> Path:
    """Adds a worktree of REPO at PATH.

    With new_branch (default) creates BRANCH at START (default HEAD) and checks it out;
    otherwise checks out the existing BRANCH.
    """
    repo = open_repo(repo_path)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    args = ["worktree", "add"]
    if new_branch and branch:
        args += ["-b", branch, str(path)]
        if start:
            args.append(start)
    else:
        args += [str(path)]
        if branch:
            args.append(branch)
    run_git(repo, f"adding worktree {path}", *args)
    return path


def remove_worktree(repo_path: Path, path: Path, *, force: bool = False) -> None:
    """Removes the worktree at PATH (refuses a dirty one unless force)."""
    repo = open_repo(repo_path)
    args = ["worktree", "remove"]
    if force:
        args += ["--force", "--force"]
    run_git(repo, f"removing worktree {path}", *args, str(path))


def prune_worktrees(repo_path: Path) -> None:
    """Forgets worktrees whose folders are gone."""
    run_git(open_repo(repo_path), "pruning worktrees", "worktree", "prune")


def list_worktrees(repo_path: Path) -> list[dict]:
    """[{path, head, branch}] for every worktree of REPO (the main one first)."""
    out = run_git(open_repo(repo_path), "listing worktrees", "worktree", "list", "--porcelain")
    trees: list[dict] = []
    cur: dict = {}
    for line in out.splitlines() + [""]:
        if not line:
            if cur:
                trees.append(cur)
            cur = {}
            continue
        key, _, value = line.partition(" ")
        if key == "worktree":
            cur = {"path": value, "head": None, "branch": None}
        elif key == "HEAD":
            cur["head"] = value
        elif key == "branch":
            cur["branch"] = value.removeprefix("refs/heads/")
        elif key == "bare":
            cur["bare"] = True
    return trees
