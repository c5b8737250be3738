"""The Refinery on a real town: merge, rebase, conflict, red gate, branch gone, Overseer approval / send-back."""
from __future__ import annotations

import time

import pytest

from gastown_tui.errors import UserError
from gastown_tui.patrols.base import RunContext
from gastown_tui.patrols.refinery import KEPT_PREFIX, Refinery, approve, send_back

from .townkit import git, main_file, make_town, submit

STATS = "textkit/stats.py"


def run(refinery):
    return refinery.run(RunContext(now=time.time(), reason="manual"))


def mr_state(town, mr_id):
    from gastown_tui.town.mq import get_mr

    return get_mr(town, mr_id).state


def bead(town, bead_id):
    from gastown_tui.town.ledgers import ledger_for_id

    return ledger_for_id(town, bead_id).get(bead_id)


def inbox_subjects(town, address):
    from gastown_tui.town.mail import inbox

    return [m.subject for m in inbox(town, address)]


def test_merges_the_queue_in_priority_order_and_closes_everything(tmp_path):
    town, rig = make_town(tmp_path)
    low, _, low_bead = submit(town, rig, "low", {"textkit/a.py": "A = 1\n"}, priority=3)
    high, _, high_bead = submit(town, rig, "high", {"textkit/b.py": "B = 2\n"}, priority=1)
    report = run(Refinery(town, rig.name))
    assert [d.kind for d in report.did] == ["merge", "merge"]
    assert [d.detail["mr"] for d in report.did] == [high.id, low.id]  # priority first, although younger
    assert mr_state(town, high.id) == mr_state(town, low.id) == "merged"
    assert bead(town, high_bead.id).status == "closed" and bead(town, low_bead.id).status == "closed"
    assert main_file(rig, "textkit/a.py") == "A = 1" and main_file(rig, "textkit/b.py") == "B = 2"
    assert git(rig.repo, "log", "--format=%s", "-2", "main").splitlines() == ["low", "high"]
    assert any(s.startswith("MERGED ") for s in inbox_subjects(town, f"{rig.name}/witness"))
    assert run(Refinery(town, rig.name)).did == []  # nothing left


def test_conflict_goes_back_to_the_polecat_with_the_files_and_the_branch_is_kept(tmp_path):
    town, rig = make_town(tmp_path)
    first, _, _ = submit(town, rig, "first", {STATS: "def line_count(t):\n    return len(t.splitlines())\n"})
    second, cat, second_bead = submit(town, rig, "second", {STATS: "def line_count(t):\n    return t.count(chr(10))\n"})
    report = run(Refinery(town, rig.name))
    assert [d.kind for d in report.did] == ["merge", "fix_needed"]
    assert mr_state(town, second.id) == "conflict"
    from gastown_tui.town.hooks import hooked_work
    from gastown_tui.town.mail import inbox

    assert hooked_work(town, cat.address).id == second_bead.id  # back on its hook
    mail = [m for m in inbox(town, cat.address) if m.subject.startswith("FIX_NEEDED")]
    assert len(mail) == 1 and second_bead.id in mail[0].subject and STATS in mail[0].body
    # the branch and its commit are kept, also under the Refinery's own ref
    assert git(rig.repo, "rev-parse", cat.branch) == second.commit_sha
    assert git(rig.repo, "rev-parse", f"{KEPT_PREFIX}/{second.id}") == second.commit_sha
    assert main_file(rig, STATS) == "def line_count(t):\n    return len(t.splitlines())"


def test_branch_behind_main_is_rebased_and_merged(tmp_path):
    town, rig = make_town(tmp_path)
    from gastown_tui.town.polecats import spawn_polecat

    early = spawn_polecat(town, rig.name)  # spawned before the first merge: its branch starts at the old main
    submit(town, rig, "one", {"textkit/one.py": "ONE = 1\n"})
    run(Refinery(town, rig.name))
    two, _, _ = submit(town, rig, "two", {"textkit/two.py": "TWO = 2\n"}, polecat=early)
    assert "textkit/one.py" not in git(rig.repo, "ls-tree", "-r", "--name-only", two.commit_sha)
    report = run(Refinery(town, rig.name))
    assert [d.kind for d in report.did] == ["merge"]
    assert main_file(rig, "textkit/one.py") == "ONE = 1" and main_file(rig, "textkit/two.py") == "TWO = 2"


def test_red_gate_sends_back_the_output_tail(tmp_path):
    town, rig = make_town(tmp_path)
    broken = "def line_count(text):\n    return 42\n"
    mr, cat, b = submit(town, rig, "break it", {STATS: broken})
    main_before = git(rig.repo, "rev-parse", "main")
    report = run(Refinery(town, rig.name))
    assert [d.kind for d in report.did] == ["fix_needed"]
    assert mr_state(town, mr.id) == "failed"
    from gastown_tui.town.mail import inbox

    body = next(m.body for m in inbox(town, cat.address) if m.subject.startswith("FIX_NEEDED"))
    assert "FAILED" in body and "42 != 2" in body  # the unittest output tail
    assert git(rig.repo, "rev-parse", "main") == main_before


def test_branch_gone_with_polecat_gone_is_escalated(tmp_path):
    town, rig = make_town(tmp_path)
    mr, cat, b = submit(town, rig, "vanishing", {"textkit/v.py": "V = 1\n"})
    git(rig.repo, "branch", "-D", cat.branch)
    import shutil

    git(rig.mayor_clone, "worktree", "remove", "--force", cat.worktree)
    shutil.rmtree(rig.polecats_dir / cat.name, ignore_errors=True)
    report = run(Refinery(town, rig.name))
    assert [d.kind for d in report.did] == ["escalate"]
    assert mr_state(town, mr.id) == "failed"
    subjects = inbox_subjects(town, "overseer")
    assert any(mr.id in s and "ESCALATION" in s for s in subjects)


def test_branch_gone_but_polecat_alive_is_asked_to_resubmit(tmp_path):
    town, rig = make_town(tmp_path)
    mr, cat, b = submit(town, rig, "vanishing", {"textkit/v.py": "V = 1\n"})
    git(rig.repo, "branch", "-D", cat.branch)
    report = run(Refinery(town, rig.name))
    assert [d.kind for d in report.did] == ["fix_needed"] and report.did[0].detail["kind"] == "branch missing"


def test_require_approval_holds_the_queue_until_the_overseer_approves(tmp_path):
    town, rig = make_town(tmp_path, merge_queue={"require_approval": True})
    mr, _, _ = submit(town, rig, "needs a look", {"textkit/r.py": "R = 1\n"})
    report = run(Refinery(town, rig.name))
    assert report.did == [] and report.saw["awaiting_approval"] == [mr.id]
    assert mr_state(town, mr.id) == "queued"
    approve(town, mr.id)
    report = run(Refinery(town, rig.name))
    assert [d.kind for d in report.did] == ["merge"] and main_file(rig, "textkit/r.py") == "R = 1"


def test_send_back_from_the_overseer_and_approve_refusals(tmp_path):
    town, rig = make_town(tmp_path)
    mr, cat, b = submit(town, rig, "not like this", {"textkit/s.py": "S = 1\n"})
    d = send_back(town, mr.id, "please name it SLUG")
    assert d.kind == "fix_needed" and mr_state(town, mr.id) == "failed"
    from gastown_tui.town.mail import inbox

    assert any("please name it SLUG" in m.body for m in inbox(town, cat.address))
    assert run(Refinery(town, rig.name)).did == []  # failed MRs are not merged
    with pytest.raises(UserError, match="needs a note"):
        send_back(town, mr.id, "  ")
    approve(town, mr.id)  # the Overseer changes their mind: queued again, the gate runs again
    assert [x.kind for x in run(Refinery(town, rig.name)).did] == ["merge"]
    with pytest.raises(UserError, match="already merged"):
        approve(town, mr.id)


def test_resling_gives_the_work_to_a_new_polecat_and_keeps_the_old_branch(tmp_path):
    from gastown_tui.patrols.refinery import resling
    from gastown_tui.town.hooks import hooked_work

    town, rig = make_town(tmp_path)
    mr, cat, b = submit(town, rig, "redo elsewhere", {"textkit/q.py": "Q = 1\n"})
    agent = resling(town, mr.id, rig.name)
    assert agent != cat.address and agent.startswith(f"{rig.name}/polecats/")
    assert hooked_work(town, agent).id == b.id
    assert mr_state(town, mr.id) == "superseded"
    assert git(rig.repo, "rev-parse", f"{KEPT_PREFIX}/{mr.id}") == mr.commit_sha
    assert run(Refinery(town, rig.name)).did == []  # nothing queued until the new polecat submits
    with pytest.raises(UserError, match="already superseded"):
        resling(town, mr.id, rig.name)


def test_push_remote_sends_each_merge_upstream(tmp_path):
    town, rig = make_town(tmp_path, merge_queue={"push_remote": "upstream"})
    upstream = tmp_path / "upstream.git"
    git(tmp_path, "clone", "-q", "--bare", str(rig.repo), str(upstream))
    git(rig.repo, "remote", "add", "upstream", str(upstream))
    submit(town, rig, "ship it", {"textkit/up.py": "UP = 1\n"})
    report = run(Refinery(town, rig.name))
    assert report.did[0].detail["pushed"] == "ok"
    assert git(upstream, "rev-parse", "main") == git(rig.repo, "rev-parse", "main")
