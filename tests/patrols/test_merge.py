"""The Refinery's merge on real repositories: fast-forward, rebase, conflict, red gate, branch gone."""
from __future__ import annotations

import sys

from gastown_tui.vcs.merge import BRANCH_MISSING, CONFLICT, GATE_FAILED, MERGED, merge_branch, unmerged_commits

from .gitrepos import commit_file, git, make_rig

GATE = f"{sys.executable} -m unittest -q"


def test_fast_forward_runs_the_gate_and_lands_the_commit(tmp_path):
    rig = make_rig(tmp_path)
    pc = rig.polecat("nux", "polecat/nux/gt-1")
    commit_file(pc, "calc.py", "def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return a - b\n", "add sub")
    result = merge_branch(rig.refinery, "polecat/nux/gt-1", gate=GATE)
    assert result.status == MERGED, result.message
    assert result.gate_returncode == 0
    assert "def sub" in rig.main_file("calc.py")
    assert result.merged_sha == git(rig.bare, "rev-parse", "main")
    assert unmerged_commits(rig.bare, "polecat/nux/gt-1", "main") == []
    # the polecat's branch is untouched
    assert git(pc, "rev-parse", "HEAD") == git(rig.bare, "rev-parse", "polecat/nux/gt-1")


def test_branch_behind_target_is_rebased(tmp_path):
    rig = make_rig(tmp_path)
    a = rig.polecat("nux", "polecat/nux/gt-1")
    b = rig.polecat("slit", "polecat/slit/gt-2")
    commit_file(a, "a.txt", "from nux\n", "nux work")
    commit_file(b, "b.txt", "from slit\n", "slit work")
    assert merge_branch(rig.refinery, "polecat/nux/gt-1", gate=GATE).status == MERGED
    result = merge_branch(rig.refinery, "polecat/slit/gt-2", gate=GATE)
    assert result.status == MERGED, result.message
    assert rig.main_file("a.txt") == "from nux" and rig.main_file("b.txt") == "from slit"
    # main is linear: slit's rebased commit sits on top of nux's
    assert git(rig.bare, "log", "--format=%s", "main").splitlines()[:2] == ["slit work", "nux work"]
    assert git(rig.bare, "rev-list", "--merges", "main") == ""
    # the original (un-rebased) commit counts as merged by patch identity
    assert unmerged_commits(rig.bare, "polecat/slit/gt-2", "main") == []


def test_conflict_names_the_files_and_changes_nothing(tmp_path):
    rig = make_rig(tmp_path)
    a = rig.polecat("nux", "polecat/nux/gt-1")
    b = rig.polecat("slit", "polecat/slit/gt-2")
    commit_file(a, "calc.py", "def add(a, b):\n    return b + a\n", "nux edit")
    b_sha = commit_file(b, "calc.py", "def add(a, b):\n    return sum((a, b))\n", "slit edit")
    assert merge_branch(rig.refinery, "polecat/nux/gt-1", gate=GATE).status == MERGED
    main_before = git(rig.bare, "rev-parse", "main")
    result = merge_branch(rig.refinery, "polecat/slit/gt-2", gate=GATE)
    assert result.status == CONFLICT
    assert result.conflict_files == ["calc.py"]
    assert "calc.py" in result.message
    assert git(rig.bare, "rev-parse", "main") == main_before
    assert git(rig.bare, "rev-parse", "polecat/slit/gt-2") == b_sha  # branch kept as it was
    assert git(rig.refinery, "status", "--porcelain") == ""  # refinery worktree clean, back on main
    assert git(rig.refinery, "symbolic-ref", "--short", "HEAD") == "main"
    assert unmerged_commits(rig.bare, "polecat/slit/gt-2", "main") == [b_sha]


def test_red_gate_reports_the_output_tail_and_keeps_main(tmp_path):
    rig = make_rig(tmp_path)
    pc = rig.polecat("nux", "polecat/nux/gt-1")
    commit_file(pc, "calc.py", "def add(a, b):\n    return a - b\n", "break add")
    main_before = git(rig.bare, "rev-parse", "main")
    result = merge_branch(rig.refinery, "polecat/nux/gt-1", gate=GATE)
    assert result.status == GATE_FAILED
    assert result.gate_returncode != 0
    assert "AssertionError" in result.gate_tail and "-1 != 5" in result.gate_tail
    assert git(rig.bare, "rev-parse", "main") == main_before
    assert git(rig.refinery, "status", "--porcelain", "--untracked-files=no") == ""


def test_branch_gone(tmp_path):
    rig = make_rig(tmp_path)
    result = merge_branch(rig.refinery, "polecat/ghost/gt-9", gate=GATE)
    assert result.status == BRANCH_MISSING
    assert "polecat/ghost/gt-9" in result.message


def test_already_merged_branch_is_a_no_op(tmp_path):
    rig = make_rig(tmp_path)
    pc = rig.polecat("nux", "polecat/nux/gt-1")
    commit_file(pc, "x.txt", "x\n", "x")
    assert merge_branch(rig.refinery, "polecat/nux/gt-1").status == MERGED
    main = git(rig.bare, "rev-parse", "main")
    again = merge_branch(rig.refinery, "polecat/nux/gt-1", gate="exit 1")
    assert again.status == MERGED and again.already and git(rig.bare, "rev-parse", "main") == main


def test_with_a_remote_fetches_the_branch_and_pushes_the_target(tmp_path):
    rig = make_rig(tmp_path)
    # a separate clone acts as the Refinery; polecats' branches live in the bare repo
    git(rig.bare, "worktree", "remove", str(rig.refinery))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(rig.bare), str(clone))
    pc = rig.polecat("nux", "polecat/nux/gt-1")
    commit_file(pc, "y.txt", "y\n", "y")
    result = merge_branch(clone, "polecat/nux/gt-1", remote="origin", gate=GATE)
    assert result.status == MERGED, result.message
    assert rig.main_file("y.txt") == "y"
    assert git(clone, "rev-parse", "main") == git(rig.bare, "rev-parse", "main")


def test_recovers_a_worktree_left_mid_rebase(tmp_path):
    rig = make_rig(tmp_path)
    a = rig.polecat("nux", "polecat/nux/gt-1")
    commit_file(a, "calc.py", "def add(a, b):\n    return b + a\n", "nux edit")
    commit_file(rig.refinery, "calc.py", "def add(a, b):\n    return a+b\n", "direct edit on main")
    # simulate a crash mid-rebase in the refinery worktree
    git(rig.refinery, "checkout", "-q", "--detach", "polecat/nux/gt-1")
    subprocess_ok = __import__("subprocess").run(["git", "rebase", "main"], cwd=rig.refinery, capture_output=True)
    assert subprocess_ok.returncode != 0
    result = merge_branch(rig.refinery, "polecat/nux/gt-1")
    assert result.status == CONFLICT and result.conflict_files == ["calc.py"]
    assert git(rig.refinery, "symbolic-ref", "--short", "HEAD") == "main"
