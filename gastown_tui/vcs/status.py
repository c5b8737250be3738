"""Working-tree state: uncommitted changes, committing everything."""
from __future__ import annotations

from pathlib import Path

from gastown_tui.vcs.errors import open_repo, run_git

# Folders Gas Town tooling writes into a worktree that are never the agent's work.
IGNORED_PREFIXES = (".runtime/", ".beads/", ".claude/")


def dirty_paths(worktree: Path, include_untracked: bool = True) -> list[str]:
    """Paths with uncommitted changes (staged, unstaged, and untracked unless excluded)."""
    repo = open_repo(worktree)
    args = ["status", "--porcelain=v1", "-z"]
    if not include_untracked:
        args.append("--untracked-files=no")
    out = run_git(repo, f"reading status of {worktree}", *args, strip_newline_in_stdout=False)
    paths = []
    entries = out.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        if code[0] in "RC":  # rename/copy: the next entry is the source path
            i += 1
        if not path.startswith(IGNORED_PREFIXES):
            paths.append(path)
    return paths


def commit_all(worktree: Path, message: str) -> str:
    """Stages every change (outside the tooling folders) and commits; returns the new sha."""
    repo = open_repo(worktree)
    paths = dirty_paths(worktree)
    if paths:
        run_git(repo, "staging changes", "add", "-A", "--", *paths)
    run_git(repo, "committing", "commit", "-q", "-m", message)
    return run_git(repo, "reading HEAD", "rev-parse", "HEAD")
