"""Each CLI's preset: clean shutdown (no process outlives the session, no Codex daemon) and its
resume command (the resumed session still has the earlier conversation)."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import psutil
import pytest
from agent_townkit import Overseer, agent_spec, make_town, new_bead, wait_until

from gastown_tui.sessions.homes import home_dir
from gastown_tui.sessions.manager import SessionManager
from gastown_tui.sessions.states import SessionState
from gastown_tui.town.addresses import agent_key
from gastown_tui.town.sling import sling

pytestmark = [pytest.mark.agents, pytest.mark.slow]


def _tree(pid: int) -> list[psutil.Process]:
    try:
        p = psutil.Process(pid)
        return [p, *p.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _left_behind(home: Path) -> list[str]:
    out = []
    for p in psutil.process_iter(["pid", "cmdline", "environ"]):
        try:
            env = p.info["environ"] or {}
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            continue
        if str(home) in env.get("HOME", "") or str(home) in env.get("CODEX_HOME", ""):
            out.append(f"{p.info['pid']}: {' '.join(p.info['cmdline'] or [])}")
    return out


@pytest.mark.parametrize("cli", ["claude", "codex", "gemini", "aider", "opencode"])
async def test_preset_shuts_down_cleanly_and_resumes_the_conversation(tmp_path, fake_model, cli):
    town, rig = make_town(tmp_path)
    result = sling(town, new_bead(rig, "Two files"), rig.name)
    work = Path(result.worktree)
    spec = agent_spec(town, result.agent, cli, work, fake_model.url, beacon="write first.txt: one")
    home = home_dir(town.root, agent_key(result.agent))
    overseer = Overseer()
    mgr = SessionManager(town.root)
    await mgr.start()
    try:
        session = await mgr.spawn(spec)
        try:
            await wait_until(lambda: overseer(session) or ((work / "first.txt").exists()
                                                            and session.state is SessionState.IDLE),
                             60, f"{cli}: first.txt written and back to idle", interval=0.2)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; first.txt {'exists' if (work / 'first.txt').exists() else 'missing'}; "
                                 f"state {session.state} ({session.state_rule}); screen:\n{session.screen.text()}") \
                from None
        tree = _tree(session.pid)
        t0 = time.monotonic()
        status = await mgr.stop(result.agent, grace=10.0)  # aider takes 3+ s to exit on a loaded machine
        print(f"\n  {cli}: stopped in {time.monotonic() - t0:.1f}s (exit status {status}); "
              f"process tree was {len(tree)} processes")
        assert status == 0, f"{cli} did not quit on its preset's quit keys (exit status {status})"
        assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in tree), tree
        assert _left_behind(home) == []
        # beacon="": a resumed conversation needs no start-up prompt (a paste-mode beacon would repeat it)
        resumed = await mgr.restart(result.agent, resume=True, beacon="")
        assert resumed.argv[:len(resumed.preset.resume_argv)][1:] == list(resumed.preset.resume_argv)[1:]
        try:
            await wait_until(lambda: overseer(resumed) or resumed.state is SessionState.IDLE, 60,
                             f"{cli}: resumed session ready", interval=0.2)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; state {resumed.state} ({resumed.state_rule}: {resumed.state_detail}); "
                                 f"exit status {resumed.exit_status}; screen:\n{resumed.screen.text()}") from None
        # Let a resumed CLI finish redrawing its restored conversation before typing into it.
        quiet_until = time.monotonic() + 10
        while time.monotonic() < quiet_until and time.monotonic() - resumed.last_output_at < 1.5:
            await asyncio.sleep(0.1)
        n = len(fake_model.requests)
        typed = await resumed.submit("write second.txt: two")
        assert typed.submitted, f"{cli}: the prompt was not submitted: {typed.reason}\n{resumed.screen.text()}"
        try:
            await wait_until(lambda: overseer(resumed) or (work / "second.txt").exists(), 60,
                             f"{cli}: second.txt written by the resumed session", interval=0.2)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; state {resumed.state} ({resumed.state_rule}); screen:\n"
                                 f"{resumed.screen.text()}\n{fake_model.summary()}") from None
    finally:
        await mgr.close()
    later = [r for r in fake_model.requests[n:] if r["conv"] and r["conv"]["has_tools"]]
    history = " ".join(later[0]["conv"]["user_texts"]) + " ".join(str(m) for m in [later[0]["body"]])
    assert "write first.txt: one" in history, f"{cli} resumed without the earlier conversation"
    assert _left_behind(home) == []
