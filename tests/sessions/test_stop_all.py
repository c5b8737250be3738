"""Quitting with many agents: the manager stops every session at once, within one deadline, and nothing
any of them started is left running — background jobs, `setsid` children, and daemons that also closed
the terminal."""
from __future__ import annotations

import asyncio
import dataclasses
import sys
import time

import psutil

from gastown_tui.sessions.manager import SessionManager
from gastown_tui.sessions.presets import load_presets
from gastown_tui.sessions.session import SessionSpec
from gastown_tui.sessions.states import SessionState
from processes import gone as _gone, marked as _marked, marker as _marker
from waiting import until as _until


async def _shell_with_leftovers(mgr: SessionManager, name: str, cwd, marker: str):
    """A shell session that started a background job, one that ignores SIGTERM, one that left the
    session (setsid), and a daemon that left it and closed the terminal too."""
    s = await mgr.spawn(SessionSpec(f"gastown/polecats/{name}", "shell", cwd=cwd))
    assert await s.wait_state({SessionState.IDLE}, timeout=30), s.screen.text()
    s.write(f"sleep 301{marker} & (trap '' TERM HUP; sleep 302{marker}) & setsid sleep 303{marker} & "
            f"setsid sh -c 'exec sleep 304{marker} </dev/null >/dev/null 2>&1' &\r".encode())
    return s


async def test_stopping_12_sessions_at_once_takes_about_as_long_as_one_and_leaves_no_process(tmp_path):
    # One session on its own: the reference.
    mgr1 = SessionManager(tmp_path)
    m1 = _marker()
    try:
        one = await _shell_with_leftovers(mgr1, "solo", tmp_path, m1)
        assert await _until(lambda: len(_marked(m1)) >= 4), _marked(m1)
    finally:
        t0 = time.monotonic()
        await mgr1.close()
        t_one = time.monotonic() - t0
    assert _marked(m1) == [] and _gone(one.pid)

    mgr = SessionManager(tmp_path)
    m12 = _marker()
    try:
        sessions = await asyncio.gather(*(_shell_with_leftovers(mgr, f"p{i}", tmp_path, m12) for i in range(12)))
        assert await _until(lambda: len(_marked(m12)) >= 48), len(_marked(m12))
        shells = [s.pid for s in sessions]
    finally:
        t0 = time.monotonic()
        await mgr.close()
        t_all = time.monotonic() - t0
    # close() returns once every tree is dead: no waiting here.
    assert _marked(m12) == [], [psutil.Process(p).cmdline() for p in _marked(m12)]
    assert all(_gone(p) for p in shells)
    assert all(s.exited and s.exit_status is not None for s in sessions)
    # Stopped one after the other this took ~12x one stop (4 s for 30); at once it is about one.
    assert t_all < 2 * t_one + 0.75, f"12 sessions stopped in {t_all:.2f}s, one in {t_one:.2f}s"


# Ignores ^C, ^D and SIGTERM (raw mode, SIGTERM/SIGINT/SIGHUP ignored): only SIGKILL ends it.
STUBBORN = """
import os, signal, sys, tty
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(s, signal.SIG_IGN)
tty.setraw(0)
os.write(1, b"stubborn> ")
while True:
    os.read(0, 1)
"""


async def test_close_has_one_deadline_for_programs_that_ignore_their_quit_keys_and_sigterm(tmp_path):
    prog = tmp_path / "stubborn.py"
    prog.write_text(STUBBORN)
    preset = dataclasses.replace(load_presets()["shell"], rules=())
    mgr = SessionManager(tmp_path)
    sessions = []
    try:
        for i in range(4):
            s = await mgr.spawn(SessionSpec(f"gastown/polecats/s{i}", preset, cwd=tmp_path,
                                            argv=[sys.executable, str(prog)]))
            sessions.append(s)
        for s in sessions:
            assert await _until(lambda: "stubborn>" in s.screen.text())
    finally:
        t0 = time.monotonic()
        await mgr.close(grace=5.0, deadline=1.0)
        took = time.monotonic() - t0
    # Each stop on its own would take the keys (2+ s), the grace (5 s) and SIGTERM's wait (2 s).
    assert took < 3.0, f"close took {took:.2f}s with a 1 s deadline"
    assert all(s.exited and s.exit_status == -9 for s in sessions), [s.exit_status for s in sessions]
    assert all(_gone(s.pid) for s in sessions)
