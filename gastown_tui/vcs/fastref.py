"""Reading a checkout's current branch from its files, without starting git (for cheap snapshots)."""
from __future__ import annotations

from pathlib import Path


def read_branch(worktree: Path) -> str | None:
    """The branch checked out in WORKTREE (a clone or a linked worktree), or None (detached / not a checkout)."""
    dotgit = Path(worktree) / ".git"
    try:
        if dotgit.is_file():
            text = dotgit.read_text().strip()
            if not text.startswith("gitdir:"):
                return None
            gitdir = Path(text[len("gitdir:"):].strip())
            if not gitdir.is_absolute():
                gitdir = (Path(worktree) / gitdir).resolve()
        else:
            gitdir = dotgit
        head = (gitdir / "HEAD").read_text().strip()
    except OSError:
        return None
    return head[len("ref: refs/heads/"):] if head.startswith("ref: refs/heads/") else None
