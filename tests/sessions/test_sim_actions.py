"""The simulated agent's actions on a real git worktree (gastown_tui/sim/actions.py)."""
import pytest

from gastown_tui.sim.actions import SimFailure, SimHang, Workspace, resolve_conflict_text
from gastown_tui.sim.script import parse_instructions
from kit.git import git, one_commit_repo


@pytest.fixture
def repo(tmp_path):
    return one_commit_repo(tmp_path / "repo", {"calc.py": "def add(a, b):\n    return a + b\n"}, message="base")


def run_script(root, text, log=None):
    lines = [] if log is None else log
    ws = Workspace(root, lines.append)
    for action in parse_instructions(text, "bead"):
        ws.run(action)
    return lines


def test_write_append_commit_make_a_real_commit(repo):
    run_script(repo, "sim: write docs/a.md\n    # A\nsim: append calc.py\n    X = 1\nsim: commit Add docs\n")
    assert (repo / "docs/a.md").read_text() == "# A\n"
    assert (repo / "calc.py").read_text().endswith("return a + b\nX = 1\n")
    assert git(repo, "log", "-1", "--format=%s").strip() == "Add docs"
    assert git(repo, "status", "--porcelain") == ""


def test_rerun_is_harmless(repo):
    script = "sim: append calc.py\n    X = 1\nsim: commit Add X\n"
    run_script(repo, script)
    log = run_script(repo, script)
    assert (repo / "calc.py").read_text().count("X = 1") == 1
    assert git(repo, "rev-list", "--count", "HEAD").strip() == "2"
    assert any("nothing to commit" in line for line in log)


def test_run_failure_stops_with_the_exit_status(repo):
    with pytest.raises(SimFailure, match="exited with status 3"):
        run_script(repo, "sim: run echo about to fail; exit 3\n")


def test_fail_and_hang(repo):
    with pytest.raises(SimFailure, match="tests are red"):
        run_script(repo, "sim: fail tests are red\n")
    with pytest.raises(SimHang):
        run_script(repo, "sim: hang\n")


def test_rebase_resolves_a_conflict_keeping_both_sides(repo):
    git(repo, "checkout", "-q", "-b", "work")
    (repo / "calc.py").write_text("def add(a, b):\n    return a + b\n\ndef mul(a, b):\n    return a * b\n")
    git(repo, "commit", "-q", "-am", "mul")
    git(repo, "checkout", "-q", "main")
    (repo / "calc.py").write_text("def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return a - b\n")
    git(repo, "commit", "-q", "-am", "sub")
    git(repo, "checkout", "-q", "work")
    run_script(repo, "sim: rebase main --resolve union\n")
    text = (repo / "calc.py").read_text()
    assert "def sub" in text and "def mul" in text and "<<<<<<<" not in text
    assert git(repo, "log", "--format=%s").split() == ["mul", "sub", "base"]
    namespace = {}
    exec(text, namespace)
    assert namespace["sub"](5, 2) == 3 and namespace["mul"](2, 3) == 6


def test_resolve_strategies():
    text = "a\n<<<<<<< HEAD\nt1\nsame\n=======\nsame\nb1\n>>>>>>> c0ffee (mine)\nz\n"
    assert resolve_conflict_text(text, "union") == "a\nt1\nsame\nsame\nb1\nz\n"
    assert resolve_conflict_text(text, "target") == "a\nt1\nsame\nz\n"
    assert resolve_conflict_text(text, "branch") == "a\nsame\nb1\nz\n"


def test_paths_outside_the_worktree_are_refused(repo, tmp_path):
    (repo / "link").symlink_to(tmp_path)
    with pytest.raises(SimFailure, match="outside the worktree"):
        run_script(repo, "sim: write link/evil.txt\n    x\n")
    assert not (tmp_path / "evil.txt").exists()
