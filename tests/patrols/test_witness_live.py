"""The Witness on real sessions: a simulated polecat that hangs is nudged, restarted, then escalated."""
from __future__ import annotations

import asyncio
import time

import pytest

from gastown_tui.patrols.runtime import TownRuntime
from gastown_tui.patrols.settings import PatrolSettings

from .townkit import make_town

pytestmark = pytest.mark.slow


async def test_a_hung_polecat_is_nudged_then_restarted_then_escalated(tmp_path):
    town, rig = make_town(tmp_path)
    from gastown_tui.town.jsonfile import read_json, write_json
    from gastown_tui.town.ledgers import open_ledger
    from gastown_tui.town.sling import sling

    data = read_json(town.settings_path, default={}) or {}
    data.setdefault("role_agents", {})["polecat"] = "sim"
    write_json(town.settings_path, data)
    bead = open_ledger(rig.beads_dir).create("hangs", description="sim: hang\n")
    result = sling(town, bead.id, rig.name, no_convoy=True, actor="overseer")
    settings = PatrolSettings(backoff_base=0.5, backoff_max=1.0, stalled=2.0, hung=8.0, spawn_grace=0.5,
                              max_restarts=1, gupp_idle=60.0, disabled=["dogs", "boot"])
    rt = TownRuntime(town.root, settings=settings)
    seen: list[tuple[str, str]] = []
    rt.runner.subscribe(lambda r: seen.extend((d.kind, d.target) for d in (r.report.did if r.report else [])
                                              if r.patrol.startswith("witness")))
    await rt.start()
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and ("escalate", "overseer") not in seen:
            await asyncio.sleep(0.2)
    finally:
        await rt.stop()
    kinds = [k for k, _ in seen]
    # stalled at 2 s -> nudged (once per quiet spell); hung at 8 s -> restarted (max_restarts=1);
    # hung again -> escalated instead of a second restart
    assert kinds[0] == "nudge" and kinds.count("restart") == 1 and kinds[-1] == "escalate", seen
    assert kinds.index("nudge") < kinds.index("restart") < kinds.index("escalate"), seen
    assert kinds.count("nudge") <= 2, seen
    assert all(t in (result.agent, "overseer") for _, t in seen)
    from gastown_tui.town.mail import inbox

    assert any("ESCALATION" in m.subject and result.agent in m.subject for m in inbox(town, "overseer"))
