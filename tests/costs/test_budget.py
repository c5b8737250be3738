"""Budgets and the breaker: 80% warns, 100% trips (slings and spawns refused with the reason, persisted across
processes), raise/reset resume; in a running town a tripped breaker stops a polecat only at the end of its turn."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .records import claude_lines, write_claude


def gastown(town: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gastown_tui.cli", *args], cwd=town, capture_output=True,
                          text=True, env={**os.environ, "GT_TOWN": str(town)}, timeout=60)


def set_budgets(town: Path, budgets: list[dict]) -> None:
    path = town / "settings" / "config.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data["budgets"] = budgets
    path.write_text(json.dumps(data))


def events(town: Path, kind: str) -> list[dict]:
    return [e for e in map(json.loads, (town / ".events.jsonl").read_text().splitlines()) if e["type"] == kind]


def test_the_breaker_warns_trips_refuses_slings_and_spawns_survives_a_restart_and_resumes_when_raised(tmp_path):
    from patrols.townkit import make_town

    from gastown_tui.town.ledgers import open_ledger

    town, rig = make_town(tmp_path)
    root = town.root
    set_budgets(root, [{"scope": "town", "tokens": 1000}])
    home = root / ".runtime" / "homes" / "textkit--polecats--nux"
    write_claude(home, "p", "s1", [{"ts": time.time() - 5, "input": 700, "output": 150}])      # 850: 85%
    shown = json.loads(gastown(root, "budget", "show", "--json").stdout)
    assert shown[0]["state"] == "warned" and shown[0]["spent"] == 850 and shown[0]["percent"] == 85.0
    assert len(events(root, "budget_warning")) == 1
    escalations = [i for i in open_ledger(town.beads_dir).all() if "gt:escalation" in i.labels]
    assert any("85%" in i.title for i in escalations)
    write_claude(home, "p", "s2", [{"ts": time.time() - 1, "input": 300, "output": 50}])       # 1200: tripped
    bead = open_ledger(rig.beads_dir).create("More work").id
    out = gastown(root, "sling", bead, "textkit")
    assert out.returncode == 1
    assert "refused: budget town is tripped (1,200 tokens spent of 1,000 tokens)" in out.stderr, out.stderr
    assert "gastown budget raise town" in out.stderr
    tripped = events(root, "budget_tripped")
    assert len(tripped) == 1 and tripped[0]["payload"]["over"] == 200
    mail = [i for i in open_ledger(town.beads_dir).all() if "tripped" in i.title and "gt:escalation" in i.labels]
    assert mail and "200 tokens over" in mail[0].description
    # nothing was hooked or spawned by the refused sling; a spawn is refused too
    assert open_ledger(rig.beads_dir).get(bead).status == "open"
    spawn = gastown(root, "polecat", "spawn", "textkit")
    assert spawn.returncode == 1 and "budget town is tripped" in spawn.stderr, spawn.stderr
    # the trip is on disk: another process (a restarted town) still refuses, even with the records gone
    state = json.loads((root / ".runtime" / "budget" / "state.json").read_text())
    assert state["town/tokens/total"]["state"] == "tripped"
    for f in home.rglob("*.jsonl"):
        f.unlink()
    assert "refused" in gastown(root, "sling", bead, "textkit").stderr
    raised = gastown(root, "budget", "raise", "town", "--to", "5000")
    assert raised.returncode == 0 and "resumed" in raised.stdout
    assert json.loads((root / "settings" / "config.json").read_text())["budgets"][0]["tokens"] == 5000
    ok = gastown(root, "sling", bead, "textkit", "--json")
    assert ok.returncode == 0, ok.stderr
    assert events(root, "budget_raised")[0]["payload"]["new"] == 5000


def test_reset_counts_from_now_and_bad_budgets_are_one_clear_error(tmp_path):
    from gastown_tui.town.install import install_town

    root = install_town(tmp_path / "town").root
    set_budgets(root, [{"scope": "rig:x", "usd": 0.001, "period": "day"}])
    home = root / ".runtime" / "homes" / "x--polecats--a"
    write_claude(home, "p", "s1", [{"ts": time.time() - 5, "input": 1000, "output": 1000}])    # claude-opus-4-8
    assert json.loads(gastown(root, "budget", "show", "--json").stdout)[0]["state"] == "tripped"
    assert gastown(root, "budget", "reset", "rig:x").returncode == 0
    after = json.loads(gastown(root, "budget", "show", "--json").stdout)[0]
    assert after["state"] == "ok" and after["spent"] == 0
    set_budgets(root, [{"scope": "rig", "tokens": 5}])
    bad = gastown(root, "budget", "show")
    assert bad.returncode == 1 and "budgets[0]" in bad.stderr and "rig:NAME" in bad.stderr
    set_budgets(root, [{"scope": "town", "tokens": 5, "usd": 1}])
    assert "exactly one limit" in gastown(root, "budget", "show").stderr


FORMULA = '''formula = "spend-then-stop"
type = "workflow"
version = 1

[vars.issue]
required = true

[[steps]]
id = "spend"
title = "Spend tokens, keep working a while"
description = """
sim: run cat "$GT_TOWN/spend.jsonl" >> "$GT_TOWN/.runtime/homes/$(printf %s "$GT_AGENT" | sed 's#/#--#g')/.claude/projects/p/s.jsonl"
sim: sleep 3
sim: write half.txt
    half
sim: commit half done
"""

[[steps]]
id = "rest"
title = "The rest"
needs = ["spend"]
description = """
sim: fail out of turn: ending here
"""
'''


@pytest.mark.slow
async def test_a_tripped_breaker_stops_a_running_polecat_only_at_the_end_of_its_turn(tmp_path):
    from patrols.townkit import git, make_town

    from gastown_tui.patrols.runtime import TownRuntime
    from gastown_tui.patrols.settings import PatrolSettings
    from gastown_tui.town.hooks import hooked_record
    from gastown_tui.town.jsonfile import read_json, write_json
    from gastown_tui.town.ledgers import open_ledger
    from gastown_tui.town.sling import sling
    from waiting import until

    town, rig = make_town(tmp_path)
    data = read_json(town.settings_path, default={}) or {}
    data.setdefault("role_agents", {})["polecat"] = "sim"
    data["budgets"] = [{"scope": "rig:textkit", "tokens": 1000}]
    write_json(town.settings_path, data)
    (town.root / "formulas" / "spend-then-stop.formula.toml").write_text(FORMULA)
    (town.root / "spend.jsonl").write_text("\n".join(claude_lines("s", [{"ts": time.time(), "input": 1500,
                                                                          "output": 10}])) + "\n")
    bead = open_ledger(rig.beads_dir).create("Spend and stop")
    result = sling(town, bead.id, rig.name, formula="spend-then-stop", no_convoy=True, actor="overseer")
    (town.root / ".runtime" / "homes" / result.agent.replace("/", "--") / ".claude" / "projects" / "p").mkdir(
        parents=True)
    rt = TownRuntime(town.root, settings=PatrolSettings(backoff_base=0.5, backoff_max=2.0, gupp_idle=600.0,
                                                         spawn_grace=600.0, disabled=["dogs", "boot"]))
    assert "budget" in rt.initial_patrols()
    await rt.start()
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and not events(town.root, "budget_stopped"):
            await asyncio.sleep(0.2)
        session = rt.sessions.get(result.agent)
        screen = session.screen.history_text() if session else ""
        # GUPP and the Witness would start it again if the breaker did not refuse: let each look twice more
        await until(lambda: session is None or not session.alive, timeout=30, what="the stopped polecat's end")
        lookers = [name for name in ("gupp", "witness") if rt.runner.has(name)]
        assert lookers, list(rt.runner.names())
        for _ in range(2):
            runs = {name: rt.runner.get_status(name).runs for name in lookers}
            for name in lookers:
                rt.runner.wake(name)
            await until(lambda: all(rt.runner.get_status(n).runs > runs[n] for n in lookers), timeout=30,
                        what="GUPP and the Witness looking at the stopped polecat again")
        again = rt.sessions.get(result.agent)
    finally:
        await rt.stop()
    trip = events(town.root, "budget_tripped")
    stop = events(town.root, "budget_stopped")
    assert trip and stop, [e["type"] for e in map(json.loads, (town.root / ".events.jsonl").read_text().splitlines())]
    # it tripped while the polecat was still working its first step, and it was stopped only after its turn
    # ended: the step's commit is on its branch and the turn's last words are on screen
    assert trip[0]["ts"] < stop[0]["ts"]
    assert git(result.worktree, "log", "--format=%s", "-1") == "half done"
    assert "out of turn: ending here" in screen, screen[-1500:]
    assert not session.alive and (again is None or not again.alive)
    assert hooked_record(town, result.agent)["id"] == bead.id
    assert Path(result.worktree, "half.txt").read_text() == "half\n"


def test_a_convoy_budget_covers_only_its_convoys_calls_and_its_trip_refuses_only_its_beads(tmp_path):
    from patrols.townkit import make_town

    from gastown_tui.town.budget import evaluate, refusal
    from gastown_tui.town.convoys import create_convoy
    from gastown_tui.town.ledgers import open_ledger
    from gastown_tui.town.sling import sling

    town, rig = make_town(tmp_path)
    ledger = open_ledger(rig.beads_dir)
    inside, outside = ledger.create("In the convoy").id, ledger.create("Not in it").id
    convoy = create_convoy(town, "Capped", [inside], actor="overseer")
    set_budgets(town.root, [{"scope": f"convoy:{convoy}", "tokens": 100}])
    cat = sling(town, inside, rig.name, actor="overseer")      # under budget: allowed
    other = sling(town, outside, rig.name, no_convoy=True, actor="overseer")
    write_claude(town.root / ".runtime" / "homes" / other.agent.replace("/", "--"), "p", "o",
                 [{"ts": time.time(), "input": 5000, "output": 1}])        # outside the convoy: not counted
    assert evaluate(town)[0].state == "ok"
    write_claude(town.root / ".runtime" / "homes" / cat.agent.replace("/", "--"), "p", "c",
                 [{"ts": time.time(), "input": 90, "output": 20}])
    st = evaluate(town)[0]
    assert st.state == "tripped" and st.spent == 110
    assert "convoy:" in refusal(town, convoy=convoy) and refusal(town, rig=rig.name) is None
    third = ledger.create("Also capped").id
    from gastown_tui.town.convoys import add_to_convoy

    add_to_convoy(town, convoy, [third], actor="overseer")
    out = gastown(town.root, "sling", third, rig.name)
    assert out.returncode == 1 and f"budget convoy:{convoy} is tripped" in out.stderr, out.stderr
    fourth = ledger.create("Free").id
    assert gastown(town.root, "sling", fourth, rig.name, "--no-convoy").returncode == 0


async def test_the_budget_patrol_runs_without_budgets_and_a_budget_set_while_the_town_runs_trips_at_once(tmp_path):
    """No budgets at the town's start: the patrol still runs (doing nothing but read the settings, and not
    woken by session changes); a budget written while the town runs is evaluated on the config change."""
    from patrols.townkit import make_town
    from waiting import until

    from gastown_tui.patrols.runtime import TownRuntime
    from gastown_tui.patrols.settings import PatrolSettings

    town, rig = make_town(tmp_path)
    write_claude(town.root / ".runtime" / "homes" / "mayor", "p", "s", [{"ts": time.time(), "input": 900,
                                                                         "output": 100}])
    rt = TownRuntime(town.root, settings=PatrolSettings(backoff_base=0.5, backoff_max=2.0,
                                                         disabled=["dogs", "boot", "gupp", "handoff"]))
    await rt.start()
    try:
        assert await until(lambda: rt.runner.has("budget") and rt.runner.get_status("budget").runs >= 1,
                           timeout=30)
        patrol = next(s.patrol for s in rt.runner._slots.values() if s.patrol.name == "budget")
        assert patrol.has_budgets is False and not events(town.root, "budget_tripped")
        await asyncio.to_thread(set_budgets, town.root, [{"scope": "town", "tokens": 500}])
        assert await until(lambda: events(town.root, "budget_tripped"), timeout=30)
        assert patrol.has_budgets is True
    finally:
        await rt.stop()
    tripped = events(town.root, "budget_tripped")[0]["payload"]
    assert (tripped["scope"], tripped["limit"], tripped["spent"]) == ("town", 500, 1000)
