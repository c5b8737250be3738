"""Town discovery, settings, rigs, agents, polecats, crew and the name pool."""
from __future__ import annotations

import json

import pytest

from gastown_tui.errors import UserError
from gastown_tui.town.layout import find_town
from town_testkit import commit_in, gastown, sh


def test_install_layout_and_find_from_below_or_gt_town(town, tmp_path):
    root = town.root
    for path in ("mayor/town.json", "mayor/rigs.json", "settings/config.json", ".beads/issues.jsonl",
                 ".events.jsonl", "formulas", ".runtime", ".runtime/shims/gt", ".runtime/shims/bd"):
        assert (root / path).exists(), path
    assert json.loads((root / "mayor" / "town.json").read_text())["type"] == "town"
    assert ".runtime/" in (root / ".gitignore").read_text()
    deep = root / "mayor" / "x" / "y"
    deep.mkdir(parents=True)
    assert find_town(deep).root == root
    assert find_town(tmp_path, env={"GT_TOWN": str(root)}).root == root
    with pytest.raises(UserError, match="is not a town"):
        find_town(env={"GT_TOWN": str(tmp_path)})
    from gastown_tui.town.ledgers import town_ledger

    assert town_ledger(town).prefix == "hq" and town_ledger(town).get("hq-mayor").issue_type == "agent"


def test_settings_timers_and_agent_presets(town, rig):
    from gastown_tui.town.settings import TownSettings

    s = TownSettings.load(town.settings_path)
    assert s.timer("deacon_patrol") == 300 and s.timer("refinery_poll") == 30
    assert s.agent_for("polecat") == "sim"
    s.data["role_agents"]["polecat"] = "claude"
    s.data["crew_agents"] = {"max": "codex"}
    s.save()
    s = TownSettings.load(town.settings_path)
    assert s.agent_for("polecat") == "claude" and s.agent_for("crew", name="max") == "codex"
    rs = rig.settings
    rs.data["role_agents"] = {"polecat": "aider"}
    rs.save()
    assert s.agent_for("polecat", rig.settings) == "aider"
    with pytest.raises(UserError, match="unknown timer 'nope'"):
        s.timer("nope")


def test_rig_layout_list_show_remove(town, rig):
    assert (rig.repo / "HEAD").exists() and (rig.mayor_clone / "calc.py").exists()
    assert (rig.refinery_worktree / "test_calc.py").exists()
    assert sh(rig.refinery_worktree, "git", "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert rig.gate.endswith("-m pytest -q") and rig.target == "main"
    routes = (town.root / ".beads" / "routes.jsonl").read_text()
    assert '"prefix": "ca-"' in routes
    listed = json.loads(gastown("rig", "list", "--json", cwd=town.root).stdout)
    assert [r["name"] for r in listed] == ["calc"]
    from gastown_tui.town.ledgers import rig_ledger

    assert rig_ledger(town, "calc").get("ca-calc-witness").role_type == "witness"
    gastown("rig", "remove", "calc", cwd=town.root)
    assert not (town.root / "calc").exists()
    assert json.loads(gastown("rig", "list", "--json", cwd=town.root).stdout) == []


def test_rig_remove_refuses_with_polecats(town, rig):
    from gastown_tui.town.polecats import spawn_polecat

    spawn_polecat(town, "calc")
    proc = gastown("rig", "remove", "calc", cwd=town.root, check=False)
    assert proc.returncode == 1 and "still has polecats furiosa" in proc.stderr
    assert (town.root / "calc").exists()


def test_name_pool_reuses_a_name_only_after_its_work_landed(town, rig):
    from gastown_tui import vcs
    from gastown_tui.town.polecats import remove_polecat, spawn_polecat

    a = spawn_polecat(town, "calc")
    b = spawn_polecat(town, "calc")
    assert (a.name, b.name) == ("furiosa", "nux")
    commit_in(a.worktree, "f.py", "f = 1\n", "furiosa's work")
    with pytest.raises(UserError, match="unmerged commit"):
        remove_polecat(town, "calc", "furiosa")
    assert spawn_polecat(town, "calc").name == "slit", "furiosa's name is still taken"
    # Land furiosa's work on main in the rig's repo (as the Refinery would), then removal is allowed.
    vcs.push_branch(a.worktree, a.branch)
    sh(rig.refinery_worktree, "git", "merge", "-q", "--ff-only", a.branch)
    remove_polecat(town, "calc", "furiosa")
    assert spawn_polecat(town, "calc").name == "furiosa"


def test_polecat_cli_spawn_list(town, rig):
    out = gastown("polecat", "spawn", "calc", "--name", "toast", cwd=town.root).stdout
    assert "Spawned calc/polecats/toast on polecat/toast@" in out
    cats = json.loads(gastown("polecat", "list", "--json", cwd=town.root).stdout)
    assert [(c["address"], c["agent_state"]) for c in cats] == [("calc/polecats/toast", "idle")]
    proc = gastown("polecat", "spawn", "calc", "--name", "toast", cwd=town.root, check=False)
    assert proc.returncode == 1 and "taken" in proc.stderr


def test_crew_add_list_remove(town, rig):
    gastown("crew", "add", "calc", "max", cwd=town.root)
    path = town.root / "calc" / "crew" / "max"
    assert (path / "calc.py").exists() and sh(path, "git", "rev-parse", "--abbrev-ref", "HEAD") == "main"
    crew = json.loads(gastown("crew", "list", "--json", cwd=town.root).stdout)
    assert [c["address"] for c in crew] == ["calc/crew/max"]
    commit_in(path, "notes.md", "design\n", "design notes")
    proc = gastown("crew", "remove", "calc", "max", cwd=town.root, check=False)
    assert proc.returncode == 1 and "1 unpushed commit" in proc.stderr and "design notes" in proc.stderr
    sh(path, "git", "push", "-q", "origin", "main")
    gastown("crew", "remove", "calc", "max", cwd=town.root)
    assert not path.exists()


def test_agent_workdirs_and_environment(town, rig):
    from gastown_tui.town.agents import environment, workdir

    assert workdir(town, "mayor/") == town.root / "mayor"
    assert workdir(town, "calc/refinery") == town.root / "calc" / "refinery" / "rig"
    assert workdir(town, "calc/polecats/nux") == town.root / "calc" / "polecats" / "nux" / "calc"
    env = environment(town, "calc/polecats/nux", base={"PATH": "/usr/bin"})
    assert env["GT_TOWN"] == str(town.root) and env["GT_RIG"] == "calc" and env["GT_ROLE"] == "polecat"
    assert env["GT_AGENT"] == env["BD_ACTOR"] == "calc/polecats/nux"
    assert env["PATH"].split(":")[0] == str(town.root / ".runtime" / "shims")


def test_rig_from_a_master_branch_project_targets_master(town, tmp_path):
    from gastown_tui.town.polecats import spawn_polecat
    from gastown_tui.town.rigs import add_rig

    src = tmp_path / "legacy"
    src.mkdir()
    sh(src, "git", "init", "-q", "-b", "master")
    (src / "old.py").write_text("x = 1\n")
    sh(src, "git", "add", ".")
    sh(src, "git", "commit", "-q", "-m", "old")
    rig = add_rig(town, "legacy", str(src))
    assert rig.target == "master" and rig.default_branch == "master"
    cat = spawn_polecat(town, "legacy")
    assert (town.root / cat.worktree / "old.py").exists()


def test_concurrent_polecat_spawns_get_distinct_names_and_worktrees(town, rig):
    import subprocess
    import sys

    procs = [subprocess.Popen([sys.executable, "-m", "gastown_tui.cli", "polecat", "spawn", "calc"], cwd=town.root,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    assert [r[0] for r in results] == [0, 0, 0, 0], results
    cats = json.loads(gastown("polecat", "list", "--json", cwd=town.root).stdout)
    assert sorted(c["name"] for c in cats) == sorted(["furiosa", "nux", "slit", "rictus"])
    assert all((town.root / c["worktree"] / "calc.py").exists() for c in cats)
