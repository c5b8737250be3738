"""Hooks (show/clear, to addresses, orphans, rehook), the merge queue's states, prime, and the app's snapshot."""
from __future__ import annotations

import json
import shutil

import pytest

from gastown_tui.errors import UserError
from gastown_tui.town.hooks import hooked_work, orphaned_hooks, rehook
from gastown_tui.town.sling import sling
from town_testkit import commit_in, gastown, new_bead


def test_sling_to_crew_address_and_hook_cli(formula_ready, rig):
    town = formula_ready
    gastown("crew", "add", "calc", "max", cwd=town.root)
    bead = new_bead(town, "calc", "Design review")
    res = sling(town, bead, "calc/max", no_convoy=True)
    assert res.agent == "calc/crew/max" and not res.spawned and res.molecule is None and res.convoy is None
    shown = json.loads(gastown("hook", "show", "calc/crew/max", "--json", cwd=town.root).stdout)
    assert shown["hook"]["id"] == bead and shown["hook"]["status"] == "hooked"
    other = new_bead(town, "calc", "Second thing")
    with pytest.raises(UserError, match=f"already has {bead} on its hook"):
        sling(town, other, "calc/crew/max")
    out = gastown("hook", "clear", "calc/crew/max", cwd=town.root).stdout
    assert f"{bead} is open again" in out
    assert hooked_work(town, "calc/crew/max") is None


def test_sling_rig_bead_to_other_rig_refused(formula_ready, rig, project):
    from gastown_tui.town.rigs import add_rig

    town = formula_ready
    add_rig(town, "other", str(project))
    bead = new_bead(town, "calc", "Calc work")
    with pytest.raises(UserError, match="belongs to another rig's ledger"):
        sling(town, bead, "other")


def test_prime_json_with_empty_hook_and_text(town, rig):
    info = json.loads(gastown("prime", "--json", "--agent", "calc/witness", cwd=town.root).stdout)
    assert {k: info[k] for k in ("agent", "role", "rig", "hook", "molecule", "next_step", "worktree")} == {
        "agent": "calc/witness", "role": "witness", "rig": "calc", "hook": None, "molecule": None,
        "next_step": None, "worktree": None}
    text = gastown("prime", cwd=town.root / "calc" / "witness").stdout
    assert text.startswith("# You are calc/witness — the witness in rig calc") and "GUPP" in text
    proc = gastown("prime", cwd=town.root, check=False)
    assert proc.returncode == 1 and "GT_AGENT" in proc.stderr


def test_prime_text_shows_hook_and_checklist(formula_ready, rig):
    town = formula_ready
    bead = new_bead(town, "calc", "Add modulo")
    res = sling(town, bead, "calc")
    text = gastown("prime", cwd=res.worktree).stdout
    assert f"Hooked: {bead} — Add modulo" in text and "Checklist" in text and "polecat-work" in text


def test_orphaned_hook_detected_and_rehook(formula_ready, rig):
    town = formula_ready
    bead = new_bead(town, "calc", "Fragile")
    res = sling(town, bead, "calc")
    assert orphaned_hooks(town) == []
    shutil.rmtree(town.root / "calc" / "polecats" / res.agent.split("/")[-1])
    [orphan] = orphaned_hooks(town)
    assert orphan["bead"] == bead and orphan["assignee"] == res.agent and "missing" in orphan["reason"]
    fresh = gastown("polecat", "spawn", "calc", cwd=town.root).stdout.split()[1]
    rehook(town, bead, fresh, reason="previous polecat vanished")
    assert hooked_work(town, fresh).id == bead and orphaned_hooks(town) == []


def test_mr_states_and_queue_order(formula_ready, rig):
    from gastown_tui.town.mq import get_mr, list_mrs, mr_diff, set_mr_state

    town = formula_ready
    mrs = []
    for title, prio in (("low", 3), ("high", 1)):
        bead = new_bead(town, "calc", title, priority=prio)
        res = sling(town, bead, "calc", no_convoy=True)
        commit_in(res.worktree, f"{title}.py", "v = 1\n", title)
        mrs.append(json.loads(gastown("done", "--json", cwd=res.worktree).stdout))
    assert [m.source_bead for m in list_mrs(town)] == [mrs[1]["source_bead"], mrs[0]["source_bead"]]
    mid = mrs[0]["id"]
    assert set_mr_state(town, mid, "rebasing").state == "rebasing"
    m = set_mr_state(town, mid, "conflict", last_conflict_sha="abc123", note="calc.py conflicts")
    assert m.state == "conflict" and m.retry_count == 1
    files, diff = mr_diff(town, mid)
    assert files == [("low.py", "A")] and "+v = 1" in diff
    assert set_mr_state(town, mid, "merged", merge_commit="def").state == "merged"
    assert get_mr(town, mid).state == "merged" and mid not in [m.id for m in list_mrs(town)]
    with pytest.raises(UserError, match="already merged"):
        set_mr_state(town, mid, "queued")
    with pytest.raises(UserError, match="unknown merge request state 'done'"):
        set_mr_state(town, mrs[1]["id"], "done")
    out = gastown("mq", "show", mid, cwd=town.root).stdout
    assert "merged" in out


def test_snapshot_has_agents_hooks_convoys_mail_mrs_events(formula_ready, rig):
    from gastown_tui.town.snapshot import town_snapshot

    town = formula_ready
    bead = new_bead(town, "calc", "Snap")
    res = sling(town, bead, "calc")
    gastown("mail", "send", "overseer", "-s", "hello", cwd=town.root, env={"GT_AGENT": "mayor/"})
    snap = town_snapshot(town)
    by_addr = {a.address: a for a in snap.agents}
    assert {"mayor/", "deacon/", "boot", "calc/witness", "calc/refinery", res.agent} <= set(by_addr)
    cat = by_addr[res.agent]
    assert (cat.hook_bead, cat.hook_title, cat.agent_state, cat.molecule) == (bead, "Snap", "working", res.molecule)
    [convoy] = snap.convoys
    assert (convoy.title, convoy.done, convoy.total) == ("Work: Snap", 0, 1)
    assert snap.unread == 1 and snap.mail[0].subject == "hello"
    assert snap.rigs == ["calc"] and snap.mrs == []
    assert snap.events[-1].type == "mail"


def test_resubmit_after_rebase_supersedes_and_force_pushes(formula_ready, rig):
    from gastown_tui.town.mq import get_mr, list_mrs, set_mr_state
    from town_testkit import sh

    town = formula_ready
    bead = new_bead(town, "calc", "Rework me")
    res = sling(town, bead, "calc", no_convoy=True)
    commit_in(res.worktree, "w.py", "w = 1\n", "first try")
    first = json.loads(gastown("done", "--json", cwd=res.worktree).stdout)
    set_mr_state(town, first["id"], "conflict", note="conflicts with main")
    rehook(town, bead, res.agent, reason="conflict")
    # The polecat rewrites its branch (as a rebase would) and submits again.
    sh(res.worktree, "git", "commit", "-q", "--amend", "-m", "second try")
    second = json.loads(gastown("done", "--json", cwd=res.worktree).stdout)
    assert second["id"] != first["id"] and second["commit_sha"] != first["commit_sha"]
    assert get_mr(town, first["id"]).state == "superseded"
    assert [m.id for m in list_mrs(town)] == [second["id"]]
    bare_sha = sh(town.root / "calc" / ".repo.git", "git", "rev-parse", f"refs/heads/{res.branch}")
    assert bare_sha == second["commit_sha"]


def test_prime_molecule_view_matches_meow_on_the_whole_ledger(formula_ready, rig):
    """prime's next step agrees with meow over the whole ledger as the steps close one by one."""
    from gastown_tui.meow import close_step, progress
    from gastown_tui.town.ledgers import rig_ledger

    town = formula_ready
    for i in range(30):
        new_bead(town, "calc", f"noise {i}")
    bead = new_bead(town, "calc", "Stepwise")
    res = sling(town, bead, "calc", no_convoy=True)
    ledger = rig_ledger(town, "calc")
    for _ in range(3):
        whole = progress(ledger, res.molecule)
        info = json.loads(gastown("prime", "--json", cwd=res.worktree).stdout)
        assert info["next_step"] == (whole.next.id if whole.next else None)
        close_step(ledger, whole.next.id)


def test_actions_from_several_threads_at_once(town, rig):
    """The app calls town functions from worker threads: each thread gets its own ledger objects."""
    from concurrent.futures import ThreadPoolExecutor

    from gastown_tui.town.mail import inbox, send_mail

    def send(i):
        return send_mail(town, "mayor/", "calc/witness", f"note {i}", "")[0]

    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(send, range(12)))
    assert len(set(ids)) == 12
    assert sorted(m.subject for m in inbox(town, "calc/witness")) == sorted(f"note {i}" for i in range(12))


def test_remove_a_polecat_whose_folder_vanished_frees_its_hook(formula_ready, rig):
    from gastown_tui.town.ledgers import rig_ledger

    town = formula_ready
    bead = new_bead(town, "calc", "Lost")
    res = sling(town, bead, "calc")
    name = res.agent.split("/")[-1]
    shutil.rmtree(town.root / "calc" / "polecats" / name)
    gastown("polecat", "remove", res.agent, cwd=town.root)
    assert rig_ledger(town, "calc").get(bead).status == "open" and orphaned_hooks(town) == []
    assert rig_ledger(town, "calc").get(f"ca-calc-polecat-{name}").agent_state == "nuked"
    proc = gastown("polecat", "remove", res.agent, cwd=town.root, check=False)
    assert proc.returncode == 1 and "unknown polecat" in proc.stderr


def test_prime_survives_a_burned_molecule(formula_ready, rig):
    from gastown_tui.meow import burn
    from gastown_tui.town.ledgers import rig_ledger

    town = formula_ready
    bead = new_bead(town, "calc", "Molecule gone")
    res = sling(town, bead, "calc", no_convoy=True)
    ledger = rig_ledger(town, "calc")
    burn(ledger, res.molecule)
    info = json.loads(gastown("prime", "--json", cwd=res.worktree).stdout)
    assert info["hook"]["id"] == bead and info["molecule"] is None
    # A link left pointing at a molecule that is gone: prime still shows the hook, and says so.
    from gastown_tui.beads.fields import set_fields

    ledger.update(bead, description=set_fields(ledger.get(bead).description, attached_molecule="ca-mol-gone"))
    info = json.loads(gastown("prime", "--json", cwd=res.worktree).stdout)
    assert info["hook"]["id"] == bead and info["molecule"] is None
    assert "ca-mol-gone" in info["warnings"][0]
    text = gastown("prime", cwd=res.worktree).stdout
    assert f"Hooked: {bead}" in text and "cannot be read" in text
