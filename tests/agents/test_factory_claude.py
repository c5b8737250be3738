"""The whole factory with Claude Code polecats: `gastown run`'s runtime (GUPP starts the session with
the beacon, the Refinery patrol merges) with nothing done by hand after the sling."""
from __future__ import annotations

import json
import time

import pytest
from agent_townkit import git, make_town, mrs, new_bead, wait_until
from agentkit import require_cli
from fake_model import Say, Shell, Write

from gastown_tui.patrols.runtime import TownRuntime
from gastown_tui.town.mq import get_mr
from gastown_tui.town.sling import sling

pytestmark = pytest.mark.agents


async def test_town_runtime_runs_a_claude_polecat_from_sling_to_merged(tmp_path, fake_model, brain):
    claude = require_cli("claude")
    town, rig = make_town(tmp_path)
    cfg = json.loads(town.settings_path.read_text())
    cfg["role_agents"]["polecat"] = "claude"
    # The town's own preset override: where this machine's Claude Code is, and the model endpoint.
    cfg["agents"]["claude"] = {"argv": [claude, "--dangerously-skip-permissions"],
                               "env": {"GASTOWN_MODEL_BASE_URL": fake_model.url}}
    town.settings_path.write_text(json.dumps(cfg, indent=2))
    bead = new_bead(rig, "Add factory.txt")
    brain.add(r"\[GAS TOWN\]", Shell("gt prime --hook"), Write("factory.txt", "made by the factory\n"),
              Shell(f"git add factory.txt && git commit -q -m '{bead}: factory.txt'"), Shell("gt done"),
              Say("DONE: submitted."))
    rt = TownRuntime(town.root)
    await rt.start()
    try:
        t0 = time.monotonic()
        result = sling(town, bead, rig.name)
        mr = (await wait_until(lambda: mrs(town, rig.name), 60, "a merge request"))[0]
        t_mr = time.monotonic() - t0
        await wait_until(lambda: get_mr(town, mr.id).state == "merged", 60, "the Refinery patrol's merge")
        t_merged = time.monotonic() - t0
        session = rt.sessions.get(result.agent)
        assert session is not None and session.preset.name == "claude"
    finally:
        await rt.stop()
    print(f"\n  runtime: sling -> MR {t_mr:.1f} s, -> merged {t_merged:.1f} s")
    assert git(rig.repo, "show", "main:factory.txt") == "made by the factory"
    home = town.root / ".runtime" / "homes" / result.agent.replace("/", "--")
    assert (home / ".claude" / ".claude.json").exists()  # the session seeded its own home
