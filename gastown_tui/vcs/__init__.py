"""Git through GitPython: clones, worktrees, branches, pushes, diffs.

Everything here works on real repositories on disk and reports git's own
message on failure (`GitError`). The Refinery's rebase/gate/fast-forward lives
in `vcs/merge.py` (owned by the patrols layer).
"""
from gastown_tui.vcs.errors import GitError
from gastown_tui.vcs.clones import clone_bare, clone, default_branch, set_head
from gastown_tui.vcs.worktrees import add_worktree, remove_worktree, list_worktrees, prune_worktrees
from gastown_tui.vcs.branches import (
    branch_exists,
    current_branch,
    delete_branch,
    head_sha,
    rev_parse,
    commits_ahead,
    unmerged_commits,
    push_branch,
    fetch,
)
from gastown_tui.vcs.status import dirty_paths, commit_all
from gastown_tui.vcs.diffs import changed_files, diff_text

__all__ = [
    "GitError", "clone_bare", "clone", "default_branch", "set_head",
    "add_worktree", "remove_worktree", "list_worktrees", "prune_worktrees",
    "branch_exists", "current_branch", "delete_branch", "head_sha", "rev_parse",
    "commits_ahead", "unmerged_commits", "push_branch", "fetch",
    "dirty_paths", "commit_all", "changed_files", "diff_text",
]
