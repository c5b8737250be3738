"""vcs: real git repos in tmp dirs — clones, worktrees, pushes, unmerged work, diffs."""
from __future__ import annotations

import pytest

from gastown_tui import vcs
from kit.git import git


def make_rig(tmp_path, source):
    bare = vcs.clone_bare(source, tmp_path / "rig" / ".repo.git")
    mayor = vcs.clone(bare, tmp_path / "rig" / "mayor" / "rig")
    return bare, mayor


def test_bare_clone_keeps_default_branch_and_history(tmp_path, source_repo):
    bare, mayor = make_rig(tmp_path, source_repo)
    assert vcs.default_branch(bare) == "main"
    assert (mayor / "app.py").read_text().startswith("def add")
    assert vcs.head_sha(mayor) == git(source_repo, "rev-parse", "HEAD")


def test_clone_of_missing_source_says_what_git_said(tmp_path):
    with pytest.raises(vcs.GitError) as err:
        vcs.clone_bare(tmp_path / "nope", tmp_path / "bare.git")
    assert "cloning" in str(err.value) and "git said" in str(err.value)
    assert "does not exist" in str(err.value) or "not" in str(err.value)


def test_worktree_branch_commit_push_reaches_bare_repo(tmp_path, source_repo):
    bare, mayor = make_rig(tmp_path, source_repo)
    wt = vcs.add_worktree(mayor, tmp_path / "pc" / "nux" / "rig", branch="polecat/nux/gt-1@abc", start="origin/main")
    assert vcs.current_branch(wt) == "polecat/nux/gt-1@abc"
    assert vcs.commits_ahead(wt, "polecat/nux/gt-1@abc", "origin/main") == []
    (wt / "new.txt").write_text("hello\n")
    assert vcs.dirty_paths(wt) == ["new.txt"]
    sha = vcs.commit_all(wt, "add new.txt")
    assert vcs.dirty_paths(wt) == []
    assert vcs.commits_ahead(wt, "polecat/nux/gt-1@abc", "origin/main") == [(sha, "add new.txt")]
    assert not vcs.branch_exists(bare, "polecat/nux/gt-1@abc")
    pushed = vcs.push_branch(wt, "polecat/nux/gt-1@abc")
    assert pushed == sha
    assert vcs.rev_parse(bare, "refs/heads/polecat/nux/gt-1@abc") == sha
    assert vcs.changed_files(bare, "polecat/nux/gt-1@abc", "main") == [("A", "new.txt")]
    assert "+hello" in vcs.diff_text(bare, "polecat/nux/gt-1@abc", "main")
    paths = [t["path"] for t in vcs.list_worktrees(mayor)]
    assert str(wt) in paths


def test_push_rejected_by_hook_raises_with_git_message(tmp_path, source_repo):
    bare, mayor = make_rig(tmp_path, source_repo)
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'frozen for release' >&2\nexit 1\n")
    hook.chmod(0o755)
    wt = vcs.add_worktree(mayor, tmp_path / "wt", branch="b1", start="origin/main")
    (wt / "x").write_text("x")
    vcs.commit_all(wt, "x")
    with pytest.raises(vcs.GitError) as err:
        vcs.push_branch(wt, "b1")
    assert "frozen for release" in str(err.value)
    assert not vcs.branch_exists(bare, "b1")


def test_unmerged_commits_sees_rebased_work_as_merged(tmp_path, source_repo):
    bare, mayor = make_rig(tmp_path, source_repo)
    wt = vcs.add_worktree(mayor, tmp_path / "wt", branch="feature", start="origin/main")
    (wt / "f.txt").write_text("f\n")
    vcs.commit_all(wt, "feature work")
    assert [s for _, s in vcs.unmerged_commits(mayor, "feature", "origin/main")] == ["feature work"]
    # Land it rebased (a different sha) on main through another clone, after main moved on.
    other = vcs.clone(bare, tmp_path / "other")
    (other / "g.txt").write_text("g\n")
    git(other, "add", "g.txt")
    git(other, "commit", "-q", "-m", "unrelated")
    git(other, "fetch", "-q", str(mayor), "feature:feature")
    git(other, "rebase", "-q", "main", "feature")
    git(other, "push", "-q", "origin", "feature:main")
    vcs.fetch(mayor)
    assert vcs.unmerged_commits(mayor, "feature", "origin/main") == []


def test_remove_dirty_worktree_needs_force(tmp_path, source_repo):
    bare, mayor = make_rig(tmp_path, source_repo)
    wt = vcs.add_worktree(mayor, tmp_path / "wt", branch="b", start="origin/main")
    (wt / "app.py").write_text("changed\n")
    with pytest.raises(vcs.GitError):
        vcs.remove_worktree(mayor, wt)
    vcs.remove_worktree(mayor, wt, force=True)
    assert not wt.exists()
    vcs.delete_branch(mayor, "b", force=True)
    assert not vcs.branch_exists(mayor, "b")
