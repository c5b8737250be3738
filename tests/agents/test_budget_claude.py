"""The budget breaker with a real Claude Code polecat against the fake model (the town's `gastown run` runtime):
with a town budget just under what one turn spends, the turn trips it; the next sling is refused with the
reason; the polecat is stopped once its turn ended (its commit made, its worktree and hook intact) and not
started again; raising the budget lets GUPP start it again, and its work lands (merged, convoy landed)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from agent_townkit import git, make_town, mrs, new_bead, wait_until
from agentkit import require_cli
from fake_model import Say, Shell, Usage

from gastown_tui.patrols.runtime import TownRuntime
from gastown_tui.patrols.settings import PatrolSettings
from gastown_tui.town.mq import get_mr
from gastown_tui.town.sling import sling

pytestmark = pytest.mark.agents

# One tool call, then the end of the turn. The first session commits half the work and stops there; a later
# session (after the budget was raised) finds half.txt, commits the rest and submits.
WORK = ("if [ -e half.txt ]; then echo rest > rest.txt && git add rest.txt && git commit -qm 'the rest' && gt done; "
        "else echo half > half.txt && git add half.txt && git commit -qm 'half of it'; fi")


def events(town, kind: str) -> list[dict]:
    return [e for e in map(json.loads, town.events_path.read_text().splitlines()) if e["type"] == kind]


async def test_a_tripped_budget_stops_a_claude_polecat_after_its_turn_and_raising_it_lets_the_convoy_land(
        tmp_path, fake_model, brain):
    claude = require_cli("claude")
    fake_model.usage = lambda conv: Usage(1000, 50, 0, 0) if conv.has_tools else Usage(0, 0, 0, 0)
    town, rig = make_town(tmp_path)
    cfg = json.loads(town.settings_path.read_text())
    cfg["role_agents"]["polecat"] = "claude"
    cfg["agents"]["claude"] = {"argv": [claude, "--dangerously-skip-permissions"],
                               "env": {"GASTOWN_MODEL_BASE_URL": fake_model.url}}
    cfg["budgets"] = [{"scope": "town", "tokens": 1500}]    # one turn = 2 model calls x 1,050 tokens
    town.settings_path.write_text(json.dumps(cfg, indent=2))
    bead = new_bead(rig, "Half now, the rest later")
    brain.add(r"\[GAS TOWN\]", Shell(WORK), Say("DONE for this turn."))
    rt = TownRuntime(town.root, settings=PatrolSettings(backoff_base=0.5, backoff_max=2.0, gupp_idle=600.0,
                                                         disabled=["dogs", "boot"]))
    await rt.start()
    try:
        result = sling(town, bead, rig.name)
        await wait_until(lambda: events(town, "budget_stopped"), 90, "the breaker to stop the polecat")
        stopped_session = rt.sessions.get(result.agent)
        screen = stopped_session.screen.history_text()
        wt = result.worktree
        assert git(wt, "log", "--format=%s", "-1") == "half of it"      # its turn ran to the end
        assert "DONE for this turn." in screen, screen[-1500:]
        trip = events(town, "budget_tripped")[0]["payload"]
        assert trip["spent"] == 2100 and trip["over"] == 600, trip
        # the next sling is refused with the reason
        other = new_bead(rig, "Something else")
        refused = subprocess.run([sys.executable, "-m", "gastown_tui.cli", "sling", other, rig.name],
                                 capture_output=True, text=True, cwd=town.root,
                                 env={**os.environ, "GT_TOWN": str(town.root)}, timeout=60)
        assert refused.returncode == 1 and "budget town is tripped (2,100 tokens spent of 1,500 tokens)" in \
            refused.stderr, refused.stderr
        # stopped, not started again while tripped; hook and worktree intact
        await wait_until(lambda: not stopped_session.alive, 20, "the stopped session to exit")
        from gastown_tui.town.hooks import hooked_record

        assert hooked_record(town, result.agent)["id"] == bead
        assert (Path(wt) / "half.txt").read_text() == "half\n"
        calls_when_stopped = len([r for r in fake_model.requests if (r.get("usage") or {}).get("input")])
        # raising the budget: GUPP starts the polecat again, it finishes and the Refinery merges
        out = subprocess.run([sys.executable, "-m", "gastown_tui.cli", "budget", "raise", "town", "--to", "100000"],
                             capture_output=True, text=True, cwd=town.root,
                             env={**os.environ, "GT_TOWN": str(town.root)}, timeout=60)
        assert out.returncode == 0, out.stderr
        mr = (await wait_until(lambda: mrs(town, rig.name), 120, "a merge request after the raise"))[0]
        await wait_until(lambda: get_mr(town, mr.id).state == "merged", 60, "the merge")
        await wait_until(lambda: events(town, "convoy_landed"), 60, "the convoy to land")
    finally:
        await rt.stop()
    assert calls_when_stopped == 2, "the stopped polecat made no model call while the breaker was tripped"
    assert git(rig.repo, "show", "main:rest.txt") == "rest"
