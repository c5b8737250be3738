"""`gastown polecat reap [RIG] [--dry-run]`: the Witness's reaping from the command line, with its refusals."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .townkit import git, make_town

pytestmark = pytest.mark.slow


def gastown(town, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gastown_tui.cli", *args], capture_output=True, text=True,
                          cwd=town.root, env={**os.environ, "GT_TOWN": str(town.root), "GT_ROLE": "",
                                              "GT_AGENT": "", "BD_ACTOR": ""})


def _finished_and_merged(town, rig, title: str, path: str):
    from gastown_tui.patrols.base import RunContext
    from gastown_tui.patrols.refinery import Refinery
    from gastown_tui.town.done import submit_done
    from gastown_tui.town.ledgers import open_ledger
    from gastown_tui.town.sling import sling

    bead = open_ledger(rig.beads_dir).create(title)
    res = sling(town, bead.id, rig.name, no_convoy=True)
    wt = Path(res.worktree)
    (wt / path).write_text(title + "\n")
    git(wt, "add", "-A")
    git(wt, "commit", "-q", "-m", title)
    submit_done(town, wt)
    report = Refinery(town, rig.name).run(RunContext(0, "manual"))
    assert [d.kind for d in report.did] == ["merge"], [d.to_dict() for d in report.did]
    return res


async def test_reap_refuses_like_the_witness_then_reaps_what_landed(tmp_path):
    from gastown_tui.sessions.manager import SessionManager
    from gastown_tui.sessions.session import SessionSpec
    from gastown_tui.sessions.states import SessionState
    from gastown_tui.town.events import read_events
    from gastown_tui.town.ledgers import open_ledger
    from gastown_tui.town.sling import sling

    town, rig = make_town(tmp_path, merge_queue={"run_tests": False, "gate": ""})
    landed = await asyncio.to_thread(_finished_and_merged, town, rig, "Shout", "shout.txt")
    busy_bead = open_ledger(rig.beads_dir).create("Still going")
    busy = sling(town, busy_bead.id, rig.name, no_convoy=True)
    wt = Path(landed.worktree)

    dry = gastown(town, "polecat", "reap", rig.name, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"Would reap {landed.agent}" in dry.stdout, dry.stdout
    assert f"Not reaping {busy.agent}: work on its hook: {busy_bead.id}" in dry.stdout, dry.stdout
    assert wt.is_dir() and git(rig.repo, "branch", "--list", landed.branch)      # a dry run changes nothing

    (wt / "scratch.txt").write_text("left behind\n")
    out = gastown(town, "polecat", "reap", rig.name)
    assert out.returncode == 0, out.stderr
    assert f"Not reaping {landed.agent}: uncommitted changes in scratch.txt" in out.stdout, out.stdout
    assert (wt / "scratch.txt").exists() and wt.is_dir()
    (wt / "scratch.txt").unlink()

    # a session of it still running (here: this process's manager, as the app's would be) -> refused
    mgr = SessionManager(town.root)
    await mgr.start()
    try:
        session = await mgr.spawn(SessionSpec(landed.agent, "shell", cwd=wt, town=town.root))
        assert await session.wait_state({SessionState.IDLE}, timeout=20)
        out = await asyncio.to_thread(gastown, town, "polecat", "reap", rig.name, "--json")
        rows = {r["address"]: r for r in json.loads(out.stdout)}
        assert rows[landed.agent]["reaped"] is False and "still running" in rows[landed.agent]["refused"][0], rows
        assert str(session.pid) in rows[landed.agent]["refused"][0] and wt.is_dir()
        await mgr.stop(landed.agent)
    finally:
        await mgr.close()

    out = gastown(town, "polecat", "reap", rig.name)
    assert out.returncode == 0, out.stderr
    assert f"Reaped {landed.agent}" in out.stdout and f"Not reaping {busy.agent}" in out.stdout, out.stdout
    assert not wt.exists() and not git(rig.repo, "branch", "--list", landed.branch)
    assert "Shout" in git(rig.repo, "show", "main:shout.txt")
    assert Path(busy.worktree).is_dir()                                            # the busy one is untouched
    reaped = [e for e in read_events(town.events_path) if e.type == "polecat_reaped"]
    assert len(reaped) == 1 and landed.agent in json.dumps(reaped[0].payload)


def test_reap_names_an_unknown_rig(tmp_path):
    town, rig = make_town(tmp_path)
    out = gastown(town, "polecat", "reap", "textkt")
    assert out.returncode == 1 and "textkt" in out.stderr and rig.name in out.stderr, out.stderr


def test_every_event_type_the_code_writes_is_a_known_event_type():
    import re

    import gastown_tui
    from gastown_tui.town.events import EVENT_TYPES

    root = Path(gastown_tui.__file__).parent
    written = set()
    call = re.compile(r"(?:append_event|town_event)\(\s*[^,()]+(?:\([^()]*\))?[^,()]*,\s*\"([a-z_]+)\"")
    chosen = re.compile(r"etype = \"([a-z_]+)\" if .+ else \"([a-z_]+)\"")   # the runner's patrol_failed/patrol_run
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        written |= set(call.findall(text)) | {t for pair in chosen.findall(text) for t in pair}
    assert {"polecat_reaped", "session_replaced", "patrol_run", "dog_run", "handoff"} <= written
    assert written - set(EVENT_TYPES) == set(), f"event types written but not in EVENT_TYPES: {written - set(EVENT_TYPES)}"
