"""What a branch changes relative to its target: file lists and diffs for MRs."""
from __future__ import annotations

from pathlib import Path

from gastown_tui.vcs.errors import open_repo, run_git


def changed_files(repo_path: Path, branch: str, target: str) -> list[tuple[str, str]]:
    """[(status letter, path)] changed on BRANCH since it left TARGET (merge-base diff)."""
    repo = open_repo(repo_path)
    out = run_git(repo, f"listing files changed on {branch}", "diff", "--name-status", "-z",
                  f"{target}...{branch}", strip_newline_in_stdout=False)
    parts = [p for p in out.split("\0")]
    result = []
    i = 0
    while i < len(parts) and parts[i]:
        status = parts[i]
        if status[0] in "RC":
            result.append((status[0], parts[i + 2]))
            i += 3
        else:
            result.append((status[0], parts[i + 1]))
            i += 2
    return result


def diff_text(repo_path: Path, branch: str, target: str, path: str | None = None) -> str:
    """The unified diff of BRANCH against its merge base with TARGET (optionally one file)."""
    repo = open_repo(repo_path)
    args = ["diff", f"{target}...{branch}"]
    if path:
        args += ["--", path]
    return run_git(repo, f"diffing {branch}", *args, strip_newline_in_stdout=False)
