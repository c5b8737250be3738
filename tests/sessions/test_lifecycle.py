"""Lifecycle: kill -9 is noticed within a second, restart keeps identity, nothing outlives the manager."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from gastown_tui.sessions.manager import SessionExists, SessionManager
from gastown_tui.sessions.session import SessionSpec
from gastown_tui.sessions.states import SessionState
from processes import gone as _gone, marked as _marked
from waiting import until as _until

REPO = Path(__file__).resolve().parents[2]


async def test_kill_9_is_seen_as_exited_within_a_second(tmp_path):
    mgr = SessionManager(tmp_path)
    try:
        s = await mgr.spawn(SessionSpec("gastown/polecats/nux", "shell", cwd=tmp_path))
        await s.wait_state({SessionState.IDLE}, timeout=20)
        # A grandchild keeps the PTY open, so end-of-file alone would not tell us.
        s.write(b"sleep 300 &\r")
        assert await _until(lambda: psutil.Process(s.pid).children())
        t0 = time.monotonic()
        os.kill(s.pid, signal.SIGKILL)
        assert await s.wait_state({SessionState.EXITED}, timeout=1.0)
        assert time.monotonic() - t0 < 1.0
        assert s.exit_status == -signal.SIGKILL
        assert s.state_rule == "process.exit"
    finally:
        await mgr.close()


async def test_restart_keeps_identity_spec_and_old_transcript(tmp_path):
    mgr = SessionManager(tmp_path)
    try:
        spec = SessionSpec("gastown/polecats/nux", "shell", cwd=tmp_path, env={"HOOK_HINT": "gt-abc"},
                           beacon="Run gt prime --hook")
        first = await mgr.spawn(spec)
        await first.wait_state({SessionState.IDLE}, timeout=20)
        with pytest.raises(SessionExists):
            await mgr.spawn(spec)
        first.write(b"echo before-restart\r")
        assert await _until(lambda: first.screen.text().count("before-restart") >= 2)
        second = await mgr.restart("gastown/polecats/nux")
        assert first.exited and second.alive
        assert second.id != first.id and second.agent == first.agent == "gastown/polecats/nux"
        assert mgr.get("gastown/polecats/nux") is second
        assert second.spec.cwd == first.spec.cwd and second.spec.beacon == first.spec.beacon
        await second.wait_state({SessionState.IDLE}, timeout=20)
        second.write(b"echo $GT_AGENT/$BD_ACTOR/$HOOK_HINT/$GT_SESSION_ID\r")
        assert await _until(lambda: f"gastown/polecats/nux/gastown/polecats/nux/gt-abc/{second.id}"
                            in second.screen.text())
        old = tmp_path / ".runtime" / "sessions" / "gastown--polecats--nux" / first.id
        assert "before-restart" in (old / "transcript.txt").read_text()
        assert (old / "meta.json").exists() and second.transcript_dir.exists()
    finally:
        await mgr.close()


async def test_closing_the_manager_leaves_no_child_process(tmp_path):
    mgr = SessionManager(tmp_path)
    marker = f"{os.getpid() % 1000}.{time.time_ns() % 1000000}"
    try:
        for i in range(3):
            s = await mgr.spawn(SessionSpec(f"gastown/polecats/p{i}", "shell", cwd=tmp_path))
            await s.wait_state({SessionState.IDLE}, timeout=20)
            # A background job, one that ignores SIGTERM, and one that leaves the session (setsid).
            s.write(f"sleep 301{marker} & (trap '' TERM HUP; sleep 302{marker}) & setsid sleep 303{marker} &\r".encode())
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(_marked(marker)) < 9:
            await asyncio.sleep(0.05)
        before = _marked(marker)
        assert len(before) >= 9, before
        shells = [s.pid for s in mgr.sessions()]
    finally:
        await mgr.close(grace=0.5)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and _marked(marker):
        await asyncio.sleep(0.05)
    assert _marked(marker) == []
    assert all(_gone(p) for p in shells)
    assert all(s.exited for s in mgr.sessions())


@pytest.mark.slow
def test_no_orphans_when_the_app_exits_without_closing(tmp_path):
    script = textwrap.dedent(f"""
        import asyncio, sys
        sys.path.insert(0, {str(REPO)!r})
        from gastown_tui.sessions.manager import SessionManager
        from gastown_tui.sessions.session import SessionSpec
        async def main():
            mgr = SessionManager({str(tmp_path)!r})
            s = await mgr.spawn(SessionSpec("gastown/polecats/nux", "shell", cwd={str(tmp_path)!r}))
            await s.wait_state({{"idle"}}, timeout=20)
            s.write(b"sleep 303 &\\r")
            import psutil, time
            end = time.monotonic() + 15
            while time.monotonic() < end and not psutil.Process(s.pid).children(recursive=True):
                await asyncio.sleep(0.05)
            print(s.pid, flush=True)
            print(" ".join(str(p.pid) for p in psutil.Process(s.pid).children(recursive=True)), flush=True)
        asyncio.run(main())   # exits without mgr.close()
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) >= 2
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and not all(_gone(p) for p in pids):
        time.sleep(0.05)
    assert [p for p in pids if not _gone(p)] == []
