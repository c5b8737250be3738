"""The session manager serializes lifecycle operations per agent, with real shell sessions.

Two `restart`s at once used to start two live sessions for one agent (both stopped the same old one,
then both spawned). Now they run one after the other: one live session at the end, every other one
exited, and no stray process.
"""
from __future__ import annotations

import asyncio

import psutil

from gastown_tui.sessions.manager import SessionExists, SessionManager
from gastown_tui.sessions.session import SessionSpec
from gastown_tui.sessions.states import SessionExited, SessionState

AGENT = "gastown/polecats/nux"


def _shells_of_ours() -> list[psutil.Process]:
    me = psutil.Process()
    return [p for p in me.children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE]


async def test_two_restarts_at_once_leave_exactly_one_live_session(tmp_path):
    mgr = SessionManager(tmp_path)
    try:
        first = await mgr.spawn(SessionSpec(AGENT, "shell", cwd=tmp_path))
        await first.wait_state({SessionState.IDLE}, timeout=20)
        a, b = await asyncio.gather(mgr.restart(AGENT), mgr.restart(AGENT))
        assert len({first.id, a.id, b.id}) == 3
        live = [s for s in (first, a, b) if s.alive]
        assert live == [mgr.get(AGENT)], [(s.id, s.alive) for s in (first, a, b)]
        assert first.exited and a.exited and b.alive  # the second restart replaced the first one's session
        assert [p.pid for p in _shells_of_ours() if p.pid in (first.pid, a.pid, b.pid)] == [b.pid]
    finally:
        await mgr.close()
    assert not [p for p in _shells_of_ours() if p.pid in (first.pid, a.pid, b.pid)]


async def test_spawn_racing_a_restart_never_gives_two_live_sessions(tmp_path):
    mgr = SessionManager(tmp_path)
    try:
        spec = SessionSpec(AGENT, "shell", cwd=tmp_path)
        first = await mgr.spawn(spec)
        await first.wait_state({SessionState.IDLE}, timeout=20)
        results = await asyncio.gather(mgr.restart(AGENT), mgr.spawn(spec), mgr.stop(AGENT), mgr.restart(AGENT),
                                       return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        assert all(isinstance(e, SessionExists) for e in errors), errors
        started = [r for r in results if hasattr(r, "alive")]
        assert sum(1 for s in started + [first] if s.alive) <= 1
        assert mgr.get(AGENT) is started[-1] and started[-1].alive
    finally:
        await mgr.close()


async def test_forget_stops_the_session_and_drops_it(tmp_path):
    mgr = SessionManager(tmp_path)
    seen = []
    mgr.add_listener(seen.append)
    try:
        s = await mgr.spawn(SessionSpec(AGENT, "shell", cwd=tmp_path))
        await s.wait_state({SessionState.IDLE}, timeout=20)
        await mgr.forget(AGENT)
        assert s.exited and mgr.get(AGENT) is None and s not in mgr.sessions()
        assert any(isinstance(e, SessionExited) and e.session_id == s.id for e in seen)
        assert s.transcript_dir.is_dir()  # the transcript stays for seance
        assert await mgr.forget(AGENT) is None  # nothing left: fine
        again = await mgr.spawn(SessionSpec(AGENT, "shell", cwd=tmp_path))  # the name can be used again
        assert again.alive and mgr.get(AGENT) is again
    finally:
        await mgr.close()


async def test_a_restarted_session_no_longer_reports_through_the_manager(tmp_path):
    mgr = SessionManager(tmp_path)
    seen = []
    mgr.add_listener(seen.append)
    try:
        old = await mgr.spawn(SessionSpec(AGENT, "shell", cwd=tmp_path))
        await old.wait_state({SessionState.IDLE}, timeout=20)
        new = await mgr.restart(AGENT)
        exits = [e for e in seen if isinstance(e, SessionExited)]
        assert [e.session_id for e in exits] == [old.id]  # its exit was reported once...
        assert mgr._emit not in old._listeners  # ...and then the manager let go of it
        await new.wait_state({SessionState.IDLE}, timeout=20)
    finally:
        await mgr.close()
