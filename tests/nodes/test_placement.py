"""Where a new polecat runs: the pure decision (`choose`), the same decision read from a real town's files
(nodes.json, the rig's and town's settings, placements, the health cache), and one unforced sling against
real sshd "machines" that lands on the node with free capacity."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gastown_tui.errors import UserError
from gastown_tui.nodes.health import NodeHealth, load_health, record
from gastown_tui.nodes.placement import (LOCAL, Candidate, choose, live_counts, load_placements, placements_path,
                                         plan)
from gastown_tui.nodes.registry import add_node
from gastown_tui.town.jsonfile import write_json
from kit.git import one_commit_repo


# -- the pure decision --------------------------------------------------------------------------------

def test_the_place_with_the_fewest_polecats_relative_to_its_maximum_wins():
    c = choose([Candidate(LOCAL, 3, 4, load=0.1), Candidate("big", 4, 16, load=0.9), Candidate("small", 1, 2)])
    assert c.where == "big"  # 4/16 beats 1/2 and 3/4, whatever the load
    assert "big has 4/16 polecats" in c.why


def test_at_equal_ratios_the_lower_load_per_core_wins_then_free_memory_then_the_town_machine():
    assert choose([Candidate("a", 1, 4, load=0.8), Candidate("b", 1, 4, load=0.2)]).where == "b"
    assert choose([Candidate("a", 1, 4, load=0.5, mem_avail_mb=900),
                   Candidate("b", 1, 4, load=0.5, mem_avail_mb=4000)]).where == "b"
    assert choose([Candidate("n1", 0, 4, load=0.5, mem_avail_mb=100),
                   Candidate(LOCAL, 0, 4, load=0.5, mem_avail_mb=100)]).where == LOCAL
    assert choose([Candidate("unmeasured", 0, 4), Candidate("measured", 0, 4, load=3.0)]).where == "measured"


def test_a_place_not_ready_or_full_gets_nothing_and_nowhere_says_why_for_each():
    c = choose([Candidate(LOCAL, 2, 2, load=0.0), Candidate("down", 0, 8, ready=False, problem="connection refused"),
                Candidate("ok", 3, 4, load=5.0)])
    assert c.where == "ok"
    none = choose([Candidate(LOCAL, 2, 2), Candidate("down", 0, 8, ready=False, problem="connection refused")])
    assert none.where is None
    assert "local is full (2/2)" in none.why and "down is not ready (connection refused)" in none.why
    assert choose([Candidate(LOCAL, 0, 0)]).where is None  # local_max_polecats 0: never on the town machine


# -- the decision from a town's real files -----------------------------------------------------------

@pytest.fixture
def town_with_rig(tmp_path):
    from gastown_tui.town.install import install_town
    from gastown_tui.town.rigs import add_rig

    project = one_commit_repo(tmp_path / "project", {"calc.py": "x = 1\n"}, message="calc")
    town = install_town(tmp_path / "town")
    rig = add_rig(town, "calc", str(project))
    return town, rig


def set_town(town, **values):
    path = town.root / "settings" / "config.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update(values)
    path.write_text(json.dumps(data))


def set_rig(rig, **values):
    path = rig.settings_path
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update(values)
    path.write_text(json.dumps(data))


def healthy(name, load1=0.5, cores=2, mem=2000, ready=True, reachable=True, at=None):
    return NodeHealth(name, at if at is not None else time.time(), reachable, ready,
                      () if ready else ("node %s: connection refused" % name,), load1, cores, 4000, mem, "x")


def polecat(town, rig, name):
    from gastown_tui.town.polecats import spawn_polecat

    return spawn_polecat(town, rig.name, name=name)


def place(town, address, node):
    data = {"placements": load_placements(town) if placements_path(town).exists() else {}}
    data["placements"][address] = {"node": node, "worktree": {
        "node": node, "rig": "calc", "polecat": address.rsplit("/", 1)[-1], "branch": "polecat/x/y",
        "root": "/nowhere", "mirror": "/nowhere/repos/calc.git", "path": "/nowhere/polecats/x"}}
    write_json(placements_path(town), data)


def test_with_no_nodes_a_polecat_is_local_and_nothing_is_measured(town_with_rig):
    town, rig = town_with_rig
    assert plan(town, "calc") is None
    assert not (town.root / ".runtime" / "nodes" / "health.json").exists()


def test_a_full_town_machine_sends_the_polecat_to_the_least_loaded_ready_node(town_with_rig):
    town, rig = town_with_rig
    for n in ("n1", "n2", "n3"):
        add_node(town, n, f"ssh://127.0.0.1:1{n[1]}", max_polecats=2)
    set_town(town, local_max_polecats=1)
    polecat(town, rig, "nux")  # the town machine is full: 1/1
    record(town, healthy("n1", load1=1.6), healthy("n2", load1=0.4), healthy("n3", ready=False, load1=0.0))
    assert plan(town, "calc").name == "n2"  # n3 is not ready, n2 is less loaded than n1
    place(town, polecat(town, rig, "slit").address, "n2")
    assert live_counts(town) == (1, {"n2": 1})
    assert plan(town, "calc").name == "n1"  # 0/2 beats 1/2, whatever the load


def test_a_rig_may_list_its_places_and_a_bad_list_names_the_file(town_with_rig):
    town, rig = town_with_rig
    for n in ("n1", "n2"):
        add_node(town, n, f"ssh://127.0.0.1:1{n[1]}")
    record(town, healthy("n1", load1=3.0), healthy("n2", load1=0.0))
    set_town(town, local_max_polecats=0)
    set_rig(rig, nodes=["n1"])
    assert plan(town, "calc").name == "n1"  # n2 is better but not allowed
    set_rig(rig, nodes=["local", "n1"])
    set_town(town, local_max_polecats=3)
    place(town, polecat(town, rig, "nux").address, "n1")
    assert plan(town, "calc") is None  # the town machine, 0/3, beats n1, 1/4
    set_rig(rig, nodes=["n9"])
    with pytest.raises(UserError, match=r"settings/config.json: nodes lists 'n9', which is not a node"):
        plan(town, "calc")
    set_rig(rig, nodes="n1")
    with pytest.raises(UserError, match="nodes must be a non-empty list"):
        plan(town, "calc")


def test_nowhere_with_room_refuses_the_sling_naming_each_place_and_slings_nothing(town_with_rig):
    from gastown_tui.nodes.placement import sling_placed
    from gastown_tui.town.ledgers import rig_ledger

    town, rig = town_with_rig
    add_node(town, "n1", "ssh://127.0.0.1:11", max_polecats=1)
    set_town(town, local_max_polecats=0)
    record(town, healthy("n1", ready=False))
    bead = rig_ledger(town, "calc").create("Anything", actor="overseer").id
    with pytest.raises(UserError) as exc:
        sling_placed(town, bead, "calc", actor="overseer")
    text = str(exc.value)
    assert "rig calc: nowhere to run a new polecat" in text and "local is full (0/0)" in text
    assert "n1 is not ready" in text and "nothing was slung" in text
    assert rig_ledger(town, "calc").get(bead).status == "open" and not list(rig.polecats_dir.glob("*"))


def test_a_reaped_polecats_placement_takes_no_room(town_with_rig):
    town, rig = town_with_rig
    add_node(town, "n1", "ssh://127.0.0.1:11", max_polecats=1)
    set_town(town, local_max_polecats=0)
    record(town, healthy("n1"))
    place(town, "calc/polecats/gone", "n1")  # its polecat no longer exists
    assert live_counts(town) == (0, {})
    assert plan(town, "calc").name == "n1"


def test_a_stale_or_broken_health_cache_is_measured_again(town_with_rig, tmp_path):
    town, rig = town_with_rig
    add_node(town, "n1", "ssh://127.0.0.1:9", max_polecats=1)  # nothing listens on port 9
    set_town(town, local_max_polecats=0)
    record(town, healthy("n1", at=time.time() - 3600))
    with pytest.raises(UserError, match=r"n1 is not ready \(node n1 .*connection refused"):
        plan(town, "calc")
    assert load_health(town)["n1"].reachable is False  # the new measure was recorded
    (town.root / ".runtime" / "nodes" / "health.json").write_text("{not json")
    assert load_health(town) == {}


# -- against real sshd machines --------------------------------------------------------------------

def gastown(cwd, *args, env=None):
    return subprocess.run([sys.executable, "-m", "gastown_tui.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=180, env={**os.environ, **(env or {})})


def test_an_unforced_sling_lands_on_the_node_with_free_capacity(town_with_rig, lab):
    from gastown_tui.town.ledgers import rig_ledger

    town, rig = town_with_rig
    env = {"GT_TOWN": str(town.root)}
    full, free = lab.machine("full"), lab.machine("free")
    for name, m in (("full", full), ("free", free)):
        assert gastown(town.root, "node", "add", name, f"ssh://{m.user}@{m.address}:{m.port}", "--dir", m.home,
                       "--python", sys.executable, "--max-polecats", "1", env=env).returncode == 0
    set_town(town, local_max_polecats=1)
    polecat(town, rig, "nux")  # the town machine: 1/1
    place(town, polecat(town, rig, "slit").address, "full")  # node full: 1/1
    bead = rig_ledger(town, "calc").create("Anything", actor="overseer").id

    res = gastown(town.root, "sling", bead, "calc", "--json", env=env)
    assert res.returncode == 0, res.stderr
    slung = json.loads(res.stdout)
    assert slung["node"] == "free" and slung["node_worktree"].startswith(str(free.home.resolve()))
    assert load_placements(town)[slung["agent"]]["node"] == "free"
    assert (free.home / "polecats" / "calc").exists() and not (full.home / "polecats").exists()
    health = load_health(town)
    assert health["free"].ready and health["free"].load1 is not None and "full" not in health  # a full node is not checked
    listed = json.loads(gastown(town.root, "node", "list", "--json", env=env).stdout)
    assert {n["name"]: len(n["polecats"]) for n in listed} == {"free": 1, "full": 1}


def test_the_deacons_sling_places_its_polecat_on_a_node_too(town_with_rig, lab):
    """The town server hands the patrols the placing sling (server/main.py): a convoy's ready bead slung by
    the Deacon lands on the node when the town machine has no room."""
    from gastown_tui.nodes.placement import placing_sling
    from gastown_tui.patrols.actions import Actions
    from gastown_tui.patrols.base import Decision
    from gastown_tui.town.ledgers import rig_ledger

    town, rig = town_with_rig
    m = lab.machine("n1")
    add_node(town, "n1", f"ssh://{m.user}@{m.address}:{m.port}", dir=str(m.home), python=sys.executable)
    set_town(town, local_max_polecats=0)
    bead = rig_ledger(town, "calc").create("Deacon's work", actor="overseer").id
    d = Decision("sling", "calc", "convoy has ready work", bead=bead)
    Actions(town, sling_fn=placing_sling).do_sling(d, "deacon")
    assert load_placements(town)[d.detail["agent"]]["node"] == "n1"
    assert (m.home / "polecats" / "calc").is_dir()


def test_the_target_is_pushed_to_a_node_once_per_commit_and_again_when_its_mirror_is_gone(town_with_rig, lab,
                                                                                         monkeypatch):
    import shutil

    from gastown_tui.nodes import placement
    from gastown_tui.nodes.placement import mirrors_path, sling_placed
    from gastown_tui.town.ledgers import rig_ledger

    pushes = []
    real_push = placement.push_mirror
    monkeypatch.setattr(placement, "push_mirror", lambda *a: pushes.append(a[0].name) or real_push(*a))
    town, rig = town_with_rig
    m = lab.machine("n1")
    add_node(town, "n1", f"ssh://{m.user}@{m.address}:{m.port}", dir=str(m.home), python=sys.executable)
    set_town(town, local_max_polecats=0)
    ledger = rig_ledger(town, "calc")
    first, _ = sling_placed(town, ledger.create("One", actor="overseer").id, "calc", actor="overseer")
    pushed = json.loads(mirrors_path(town).read_text())
    assert list(pushed) == ["n1/calc"]
    mirror = m.home / "repos" / "calc.git"
    assert pushes == ["n1"]
    second, placed = sling_placed(town, ledger.create("Two", actor="overseer").id, "calc", actor="overseer")
    assert placed is not None and placed.node == "n1" and Path(placed.path).is_dir()
    assert pushes == ["n1"]  # the same target commit: not pushed again
    shutil.rmtree(mirror)  # someone cleaned the node: the cache is wrong, the clone fails, the town pushes
    third, placed = sling_placed(town, ledger.create("Three", actor="overseer").id, "calc", actor="overseer")
    assert placed is not None and Path(placed.path, "calc.py").is_file() and mirror.is_dir()
    assert pushes == ["n1", "n1"]


def test_show_says_the_last_check_and_a_reaped_polecats_placement_does_not_hold_the_node(town_with_rig):
    town, rig = town_with_rig
    add_node(town, "n1", "ssh://127.0.0.1:11")
    record(town, healthy("n1", load1=1.5, cores=2))
    shown = json.loads(gastown(town.root, "node", "show", "n1", "--json").stdout)
    assert shown["health"]["reachable"] and shown["health"]["load1"] == 1.5
    assert "ready, load 1.50/2 cores" in gastown(town.root, "node", "show", "n1").stdout
    place(town, polecat(town, rig, "nux").address, "n1")
    refused = gastown(town.root, "node", "remove", "n1")
    assert refused.returncode == 1 and "calc/polecats/nux" in refused.stderr
    place(town, "calc/polecats/gone", "n1")
    data = json.loads(placements_path(town).read_text())
    del data["placements"]["calc/polecats/nux"]
    write_json(placements_path(town), data)
    assert gastown(town.root, "node", "remove", "n1").returncode == 0  # only the reaped one's record was left
