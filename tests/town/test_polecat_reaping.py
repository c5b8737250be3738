"""Reaping a polecat once its work has landed, on real git repos: worktree, branch and hook go, the name is free.

And the refusals: unmerged commits, uncommitted changes, hooked work. A refusal changes nothing.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gastown_tui.town.polecats import ReapRefused, list_polecats, reap_blockers, reap_polecat, spawn_polecat
from gastown_tui.town.sling import sling
from town_testkit import commit_in, new_bead, sh


@pytest.fixture
def fast_rig(formula_ready, project):
    """A rig with no gate (the Refinery merges at once): these tests are about what happens after."""
    from gastown_tui.town.rigs import add_rig

    return add_rig(formula_ready, "calc", str(project))


def _land(town, rig_name: str) -> list:
    """Runs the Refinery over the queue (real rebase and fast-forward in the rig's repo)."""
    from gastown_tui.patrols.base import RunContext
    from gastown_tui.patrols.refinery import Refinery

    report = Refinery(town, rig_name).run(RunContext(time.time(), "manual"))
    return [d.kind for d in report.did]


def _finish(town, rig, title: str, filename: str, text: str):
    """Sling a bead to the rig, commit in the polecat's worktree, `gt done`. Returns the SlingResult."""
    from gastown_tui.town.done import submit_done

    bead = new_bead(town, rig.name, title)
    res = sling(town, bead, rig.name, no_convoy=True)
    commit_in(Path(res.worktree), filename, text, title)
    submit_done(town, Path(res.worktree))
    return res


def _agent(town, rig, name):
    from gastown_tui.town.ledgers import open_ledger

    return open_ledger(rig.beads_dir).find(f"{rig.prefix}-{rig.name}-polecat-{name}")


def _events(town, kind):
    return [json.loads(line) for line in town.events_path.read_text().splitlines()
            if json.loads(line)["type"] == kind]


def test_a_landed_polecat_is_reaped_and_its_name_goes_to_the_next_sling(formula_ready, fast_rig):
    town, rig = formula_ready, fast_rig
    first = _finish(town, rig, "Add sub", "sub.py", "def sub(a, b):\n    return a - b\n")
    second = _finish(town, rig, "Add mul", "mul.py", "def mul(a, b):\n    return a * b\n")
    name = first.agent.rsplit("/", 1)[1]
    assert reap_blockers(town, rig.name, name)            # not yet: its MR is open, its commit not on main
    assert _land(town, rig.name) == ["merge", "merge"]    # the second one was rebased onto the first
    assert sh(rig.repo, "git", "branch", "--list", "polecat/*")  # the pushed copies are still there
    for res in (first, second):
        n = res.agent.rsplit("/", 1)[1]
        assert reap_blockers(town, rig.name, n) == []
        reap_polecat(town, rig.name, n, actor="calc/witness")
        assert not Path(res.worktree).exists() and not (rig.polecats_dir / n).exists()
        assert not sh(rig.mayor_clone, "git", "branch", "--list", res.branch)
        assert not sh(rig.repo, "git", "branch", "--list", res.branch)
        agent = _agent(town, rig, n)
        assert agent.agent_state == "nuked" and not agent.hook_bead
    assert [e["payload"]["agent"] for e in _events(town, "polecat_reaped")] == [first.agent, second.agent]
    assert list_polecats(town, rig.name) == []
    assert "def sub" in sh(rig.repo, "git", "show", "main:sub.py") and "def mul" in sh(rig.repo, "git", "show",
                                                                                          "main:mul.py")
    nxt = sling(town, new_bead(town, rig.name, "Add div"), rig.name, no_convoy=True)
    assert nxt.spawned and nxt.agent == first.agent      # the first pool name is free again
    assert _agent(town, rig, name).hook_bead == nxt.bead and Path(nxt.worktree).is_dir()


def test_unmerged_commits_refuse_and_nothing_is_removed(formula_ready, fast_rig):
    town, rig = formula_ready, fast_rig
    cat = spawn_polecat(town, rig.name)                  # nothing hooked, never submitted
    sha = commit_in(Path(cat.worktree), "wip.py", "x = 1\n", "half-done idea")
    with pytest.raises(ReapRefused, match=f"1 commit.*{sha[:8]} half-done idea"):
        reap_polecat(town, rig.name, cat.name)
    assert Path(cat.worktree, "wip.py").exists() and sh(rig.mayor_clone, "git", "rev-parse", cat.branch) == sha
    assert not _events(town, "polecat_reaped")


def test_a_pushed_branch_with_unmerged_work_refuses_even_when_the_worktree_is_gone_back(formula_ready, fast_rig):
    town, rig = formula_ready, fast_rig
    res = _finish(town, rig, "Add neg", "neg.py", "def neg(a):\n    return -a\n")
    assert _land(town, rig.name) == ["merge"]
    wt = Path(res.worktree)
    # After landing, a second commit reaches the rig's repo copy of the branch but never main.
    commit_in(wt, "extra.py", "y = 2\n", "afterthought")
    sh(wt, "git", "push", "-q", "-f", "origin", f"HEAD:refs/heads/{res.branch}")
    sh(wt, "git", "reset", "-q", "--hard", "HEAD~1")
    name = res.agent.rsplit("/", 1)[1]
    blockers = reap_blockers(town, rig.name, name)
    assert len(blockers) == 1 and "in the rig's repo" in blockers[0] and "afterthought" in blockers[0]
    with pytest.raises(ReapRefused, match="afterthought"):
        reap_polecat(town, rig.name, name)
    assert wt.is_dir() and sh(rig.repo, "git", "branch", "--list", res.branch)


def test_uncommitted_changes_refuse(formula_ready, fast_rig):
    town, rig = formula_ready, fast_rig
    res = _finish(town, rig, "Add pow", "pw.py", "def pw(a, b):\n    return a ** b\n")
    assert _land(town, rig.name) == ["merge"]
    wt = Path(res.worktree)
    (wt / "notes.txt").write_text("not committed\n")
    (wt / "calc.py").write_text("def add(a, b):\n    return b + a\n")
    name = res.agent.rsplit("/", 1)[1]
    with pytest.raises(ReapRefused, match=r"uncommitted changes in .*calc\.py.*notes\.txt|notes\.txt.*calc\.py"):
        reap_polecat(town, rig.name, name)
    assert (wt / "notes.txt").read_text() == "not committed\n" and _agent(town, rig, name).agent_state == "done"
    (wt / "notes.txt").unlink()
    sh(wt, "git", "checkout", "--", "calc.py")
    reap_polecat(town, rig.name, name)                    # clean again: it goes
    assert not wt.exists()


def test_hooked_work_refuses(formula_ready, fast_rig):
    from gastown_tui.town.hooks import hooked_work

    town, rig = formula_ready, fast_rig
    res = _finish(town, rig, "Add mod", "md.py", "def md(a, b):\n    return a % b\n")
    assert _land(town, rig.name) == ["merge"]
    more = new_bead(town, rig.name, "Follow-up")
    sling(town, more, res.agent, no_convoy=True)          # new work for the same polecat
    name = res.agent.rsplit("/", 1)[1]
    with pytest.raises(ReapRefused, match=f"work on its hook: {more} \\(hooked\\)"):
        reap_polecat(town, rig.name, name)
    assert hooked_work(town, res.agent).id == more and Path(res.worktree).is_dir()
    assert not _events(town, "polecat_reaped")
