"""Real git repositories for tests: run git, make a one-commit repo, commit a file."""
from __future__ import annotations

import subprocess
from pathlib import Path


def git(cwd: Path, *args: str) -> str:
    """Runs `git ARGS` in CWD; its stdout, stripped. CalledProcessError (with git's stderr) on failure."""
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def commit_file(worktree: Path, path: str, text: str, message: str) -> str:
    """Writes PATH (folders made), commits it alone; the new HEAD sha."""
    f = Path(worktree) / path
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(text)
    git(worktree, "add", path)
    git(worktree, "commit", "-q", "-m", message)
    return git(worktree, "rev-parse", "HEAD")


def one_commit_repo(path: Path, files: dict[str, str], message: str = "initial", branch: str = "main") -> Path:
    """A new repository at PATH with FILES committed on BRANCH in one commit."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", branch)
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", message)
    return path
