"""Every bad input of issue 4: a one-line error naming the thing, and nothing lost or half-done."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gastown_tui.errors import NotFound, UserError
from town_testkit import commit_in, gastown, new_bead


def ledger_bytes(town, rig="calc"):
    return (town.root / rig / ".beads" / "issues.jsonl").read_bytes()


def test_unknown_bead_names_nearest_ids(formula_ready, rig):
    town = formula_ready
    bead = new_bead(town, "calc", "Real work")
    proc = gastown("sling", bead + "x", "calc", cwd=town.root, check=False)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert repr(bead + "x") in lines[0] and bead in lines[0].split("nearest")[1]
    assert not any((town.root / "calc" / "polecats").iterdir()), "no polecat spawned for a bad bead"


def test_unknown_rig_and_address_name_nearest(formula_ready, rig):
    town = formula_ready
    bead = new_bead(town, "calc", "Real work")
    proc = gastown("sling", bead, "calcc", cwd=town.root, check=False)
    assert proc.returncode == 1 and "'calcc'" in proc.stderr and "calc" in proc.stderr.split("nearest")[1]
    proc = gastown("mail", "send", "calc/witnes", "-s", "hi", cwd=town.root, check=False)
    assert proc.returncode == 1 and "unknown address 'calc/witnes'" in proc.stderr and "calc/witness" in proc.stderr
    proc = gastown("rig", "show", "clac", cwd=town.root, check=False)
    assert proc.returncode == 1 and "unknown rig 'clac'" in proc.stderr
    from gastown_tui.town.ledgers import ledger_for_id

    with pytest.raises(NotFound, match="no ledger has prefix 'zz'"):
        ledger_for_id(town, "zz-123")


def test_sling_closed_bead_refuses_unless_force(formula_ready, rig):
    from gastown_tui.town.ledgers import rig_ledger
    from gastown_tui.town.sling import sling

    town = formula_ready
    bead = new_bead(town, "calc", "Already finished")
    rig_ledger(town, "calc").close(bead, reason="done elsewhere")
    before = ledger_bytes(town)
    with pytest.raises(UserError, match=f"bead {bead} is closed"):
        sling(town, bead, "calc")
    assert ledger_bytes(town) == before
    assert not any((town.root / "calc" / "polecats").iterdir())
    res = sling(town, bead, "calc", force=True)
    assert rig_ledger(town, "calc").get(bead).status == "hooked" and res.spawned


def test_sling_hooked_bead_refuses_unless_force(formula_ready, rig):
    from gastown_tui.town.hooks import hooked_work
    from gastown_tui.town.sling import sling

    town = formula_ready
    bead = new_bead(town, "calc", "Popular work")
    first = sling(town, bead, "calc")
    with pytest.raises(UserError, match=f"already hooked by {first.agent}"):
        sling(town, bead, "calc")
    second = sling(town, bead, "calc", force=True, no_convoy=True)
    assert hooked_work(town, second.agent).id == bead
    assert hooked_work(town, first.agent) is None, "taking it with --force empties the first hook"


def test_two_concurrent_slings_of_one_bead_exactly_one_wins(formula_ready, rig):
    town = formula_ready
    bead = new_bead(town, "calc", "Contended work")
    procs = [subprocess.Popen([sys.executable, "-m", "gastown_tui.cli", "sling", bead, "calc", "--json"],
                              cwd=town.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.wait(timeout=60), p.stdout.read(), p.stderr.read()) for p in procs]
    codes = sorted(r[0] for r in results)
    assert codes == [0, 1], results
    loser = next(r for r in results if r[0] == 1)
    assert "already hooked" in loser[2]
    winner = json.loads(next(r for r in results if r[0] == 0)[1])
    from gastown_tui.town.ledgers import rig_ledger
    from gastown_tui.town.polecats import list_polecats

    assert rig_ledger(town, "calc").get(bead).assignee == winner["agent"]
    assert [p.address for p in list_polecats(town)] == [winner["agent"]], "the loser leaves no polecat behind"


@pytest.fixture
def slung(formula_ready, rig):
    from gastown_tui.town.sling import sling

    bead = new_bead(formula_ready, "calc", "Some work")
    return formula_ready, sling(formula_ready, bead, "calc")


def test_done_with_uncommitted_changes_refuses_and_changes_nothing(slung):
    town, res = slung
    (town.root / res.worktree / "wip.py").write_text("x = 1\n")
    before = ledger_bytes(town)
    proc = gastown("done", cwd=res.worktree, check=False)
    assert proc.returncode == 1
    assert "uncommitted changes" in proc.stderr and "wip.py" in proc.stderr and "--auto-commit" in proc.stderr
    assert ledger_bytes(town) == before
    out = gastown("done", "--auto-commit", "--json", cwd=res.worktree)
    assert json.loads(out.stdout)["state"] == "queued"


def test_done_without_commits_refuses(slung):
    town, res = slung
    before = ledger_bytes(town)
    proc = gastown("done", cwd=res.worktree, check=False)
    assert proc.returncode == 1 and "no commits on" in proc.stderr and "nothing to submit" in proc.stderr
    assert ledger_bytes(town) == before


def test_rejected_push_leaves_ledger_unchanged_and_says_what_git_said(slung):
    town, res = slung
    hook = town.root / "calc" / ".repo.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are frozen for the release' >&2\nexit 1\n")
    hook.chmod(0o755)
    commit_in(res.worktree, "feature.py", "y = 2\n", "feature")
    before, town_before = ledger_bytes(town), (town.root / ".beads" / "issues.jsonl").read_bytes()
    proc = gastown("done", cwd=res.worktree, check=False)
    assert proc.returncode == 1
    assert "pushes are frozen for the release" in proc.stderr and "git said" in proc.stderr
    assert ledger_bytes(town) == before
    assert (town.root / ".beads" / "issues.jsonl").read_bytes() == town_before, "no mail was sent"
    hook.unlink()
    gastown("done", cwd=res.worktree)


def test_done_outside_a_polecat_worktree_refuses(town, rig):
    proc = gastown("done", cwd=town.root / "calc" / "mayor" / "rig", check=False)
    assert proc.returncode == 1 and "inside a polecat's worktree" in proc.stderr


@pytest.mark.parametrize("name", ["..", "a/b", "has space", "dot.ted", "-lead", "mayor", ""])
def test_bad_rig_names_are_refused_and_nothing_is_created(town, project, name):
    before = sorted(p.name for p in town.root.iterdir())
    proc = gastown("rig", "add", name, str(project), cwd=town.root, check=False)
    assert proc.returncode in (1, 2)
    assert "rig name" in proc.stderr or "usage" in proc.stderr
    assert sorted(p.name for p in town.root.iterdir()) == before


def test_rig_from_missing_source_says_what_git_said_and_cleans_up(town, tmp_path):
    proc = gastown("rig", "add", "ghost", str(tmp_path / "nowhere"), cwd=town.root, check=False)
    assert proc.returncode == 1 and "git said" in proc.stderr
    assert not (town.root / "ghost").exists()
    assert json.loads((town.root / "mayor" / "rigs.json").read_text())["rigs"] == {}


def test_duplicate_rig_and_prefix_refused(town, rig, project):
    from gastown_tui.town.rigs import add_rig

    with pytest.raises(UserError, match="rig 'calc' already exists"):
        add_rig(town, "calc", str(project))
    with pytest.raises(UserError, match="prefix 'ca' is already used"):
        add_rig(town, "other", str(project), prefix="ca")
    with pytest.raises(UserError, match="prefix 'hq' is already used by the town"):
        add_rig(town, "other", str(project), prefix="hq")


def test_install_twice_refused(town):
    proc = gastown("install", str(town.root), cwd=town.root.parent, check=False)
    assert proc.returncode == 1 and "already a town" in proc.stderr


def test_commands_outside_a_town_say_so(tmp_path):
    proc = gastown("rig", "list", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "not inside a town" in proc.stderr


def test_broken_settings_file_names_file_and_line(town):
    from gastown_tui.town.settings import TownSettings

    town.settings_path.write_text('{\n  "timers": {\n    "deacon_patrol": 5m\n  }\n}\n')
    with pytest.raises(UserError, match=r"settings/config.json:3: invalid JSON"):
        TownSettings.load(town.settings_path)
    town.settings_path.write_text('{"timers": {"deacon_patrol": "soon"}}')
    with pytest.raises(UserError, match=r"timers.deacon_patrol: not a duration: 'soon'"):
        TownSettings.load(town.settings_path)


def test_a_number_too_long_to_convert_in_a_town_file_is_a_named_error(town):
    # json raises a plain ValueError (not JSONDecodeError) for an integer past Python's 4300 digits;
    # it used to escape read_json as a traceback instead of the one-line error naming the file.
    from gastown_tui.town.settings import TownSettings

    town.settings_path.write_text('{"max_polecats": ' + "9" * 5000 + "}\n")
    with pytest.raises(UserError, match=r"settings/config.json: invalid JSON: Exceeds the limit"):
        TownSettings.load(town.settings_path)
    proc = gastown("config", "get", "max_polecats", cwd=town.root, check=False)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
    assert "settings/config.json: invalid JSON" in proc.stderr


def test_polecat_remove_refuses_unmerged_work_and_says_what(slung):
    town, res = slung
    sha = commit_in(res.worktree, "precious.py", "z = 3\n", "precious work")
    name = res.agent.split("/")[-1]
    proc = gastown("polecat", "remove", f"calc/{name}", cwd=town.root, check=False)
    assert proc.returncode == 1
    assert "1 unmerged commit" in proc.stderr and sha[:8] in proc.stderr and "precious work" in proc.stderr
    assert (town.root / res.worktree).exists()
    gastown("polecat", "remove", f"calc/{name}", "--force", cwd=town.root)
    assert not (town.root / "calc" / "polecats" / name).exists()
    from gastown_tui.town.ledgers import rig_ledger

    assert rig_ledger(town, "calc").get(res.bead).status == "open", "the hook goes back to open"


def test_bad_address_and_mail_group(town, rig):
    from gastown_tui.town.mail import send_mail

    with pytest.raises(NotFound, match="unknown mail group '@nobody'"):
        send_mail(town, "overseer", "@nobody", "hi")
    with pytest.raises(NotFound, match="unknown rig 'calx'"):
        send_mail(town, "overseer", "@rig/calx", "hi")
    with pytest.raises(UserError, match="needs a subject"):
        send_mail(town, "overseer", "mayor/", " ")


def test_sling_with_unknown_formula_leaves_nothing_behind(formula_ready, rig):
    from gastown_tui.town.ledgers import rig_ledger
    from gastown_tui.town.polecats import list_polecats

    town = formula_ready
    bead = new_bead(town, "calc", "Needs a formula")
    before = ledger_bytes(town)
    proc = gastown("sling", bead, "calc", "--formula", "no-such-formula", cwd=town.root, check=False)
    assert proc.returncode == 1 and "no-such-formula" in proc.stderr
    assert ledger_bytes(town) == before, "bead, agent bead and molecule: all or nothing"
    assert list_polecats(town) == [] and not any((town.root / "calc" / "polecats").iterdir())
    branches = subprocess.run(["git", "branch", "--list", "polecat/*"], cwd=town.root / "calc" / "mayor" / "rig",
                              capture_output=True, text=True, check=True).stdout
    assert branches.strip() == ""
    assert rig_ledger(town, "calc").get(bead).status == "open"
    from gastown_tui.town.events import read_events

    tail = [e.type for e in read_events(town.events_path)][-4:]
    assert tail == ["spawn", "hook", "unhook", "polecat_removed"], "the log says the sling was undone"
    assert gastown("sling", bead, "calc", cwd=town.root, env={"BD_ACTOR": "some-bot"}).returncode == 0


def test_bad_prefix_refused(town, project):
    proc = gastown("rig", "add", "calc", str(project), "--prefix", "Bad-Prefix", cwd=town.root, check=False)
    assert proc.returncode == 1 and "invalid prefix 'Bad-Prefix'" in proc.stderr
    assert not (town.root / "calc").exists()


def test_sling_bead_already_submitted_by_another_polecat_refuses(slung):
    town, res = slung
    commit_in(res.worktree, "done.py", "d = 1\n", "work")
    gastown("done", cwd=res.worktree)
    proc = gastown("sling", res.bead, "calc", cwd=town.root, check=False)
    assert proc.returncode == 1 and f"in progress by {res.agent}" in proc.stderr


def test_prime_for_unknown_agent_names_nearest(town, rig):
    proc = gastown("prime", "--agent", "calc/witnes", cwd=town.root, check=False)
    assert proc.returncode == 1 and "unknown address 'calc/witnes'" in proc.stderr and "calc/witness" in proc.stderr
    proc = gastown("prime", cwd=town.root, env={"GT_AGENT": "calc/polecats/ghost"}, check=False)
    assert proc.returncode == 1 and "unknown address 'calc/polecats/ghost'" in proc.stderr
