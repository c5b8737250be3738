"""Session.stop's quit keys: paced by the program's answers, never a real SIGINT into a program on its way out,
inside a "press Ctrl-C again" window, and sent once more when the first ^C only cleared a half-typed line."""
from __future__ import annotations

import dataclasses
import sys
import textwrap
import time
from pathlib import Path

from gastown_tui.sessions.presets import load_presets
from gastown_tui.sessions.session import Session, SessionSpec
from gastown_tui.sessions.states import SessionState

# A raw-mode program: on ^C it draws "bye", gives the terminal back (cooked mode: a further ^C is SIGINT) and
# takes DELAY seconds to finish exiting (opencode under load). Killed by SIGINT -> status -2; clean -> 0.
SLOW_EXIT = textwrap.dedent("""
    import os, signal, sys, termios, time, tty
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    old = termios.tcgetattr(0)
    tty.setraw(0)
    os.write(1, b"ready> ")
    while os.read(0, 1) != b"\\x03":
        pass
    os.write(1, b"\\r\\nbye\\r\\n")
    termios.tcsetattr(0, termios.TCSANOW, old)
    time.sleep(float(sys.argv[1]))
    sys.exit(0)
""")

# Claude Code's double press: the first ^C shows "Press Ctrl-C again to exit" for 0.8 s; a second one inside
# that window exits 0, one after it only shows the hint again. It answers after REACT seconds (a loaded machine).
DOUBLE_PRESS = textwrap.dedent("""
    import os, sys, time, tty
    tty.setraw(0)
    react = float(sys.argv[1])
    os.write(1, b"ready> ")
    armed = None
    while True:
        if os.read(0, 1) != b"\\x03":
            continue
        now = time.monotonic()
        time.sleep(react)
        if armed is not None and now - armed < 0.8:
            os.write(1, b"\\r\\nexiting\\r\\n")
            sys.exit(0)
        armed = now
        os.write(1, b"\\r\\nPress Ctrl-C again to exit\\r\\n")
""")


def _spec(tmp_path: Path, code: str, *args: str) -> SessionSpec:
    prog = tmp_path / "prog.py"
    prog.write_text(code)
    preset = dataclasses.replace(load_presets()["shell"], quit_keys=("ctrl+c", "ctrl+c"), rules=())
    return SessionSpec("gastown/polecats/nux", preset, cwd=tmp_path, argv=[sys.executable, str(prog), *args])


async def _started(spec: SessionSpec) -> Session:
    s = Session(spec)
    await s.start()
    end = time.monotonic() + 10
    while "ready>" not in s.screen.text() and time.monotonic() < end:
        await s.wait_exit(0.05)
    assert "ready>" in s.screen.text(), s.screen.text()
    return s


async def test_no_second_ctrl_c_into_a_program_that_left_raw_mode_to_exit(tmp_path):
    s = await _started(_spec(tmp_path, SLOW_EXIT, "1.0"))
    status = await s.stop(grace=5)
    assert status == 0, f"killed mid-exit by a second ^C (status {status}); screen:\n{s.screen.text()}"


async def test_the_second_ctrl_c_lands_inside_a_double_press_window_even_when_answers_are_slow(tmp_path):
    for react in (0.0, 0.3):
        s = await _started(_spec(tmp_path, DOUBLE_PRESS, str(react)))
        t0 = time.monotonic()
        status = await s.stop(grace=3)
        assert status == 0 and "exiting" in s.screen.text(), (react, status, s.screen.text())
        assert time.monotonic() - t0 < 2.5, "polite quit should not wait for the SIGTERM fallback"


async def test_a_half_typed_line_is_cleared_and_the_agent_still_quits_on_its_keys(tmp_path):
    s = Session(SessionSpec("gastown/polecats/nux", "sim", cwd=tmp_path))   # no town: fails its prime, idles
    await s.start()
    try:
        assert await s.wait_state({SessionState.IDLE}, timeout=15)
        s.paste("half a thought")   # typed but never submitted: the sim's first ^C only clears it
        end = time.monotonic() + 5
        while "half a thought" not in s.screen.text() and time.monotonic() < end:
            await s.wait_exit(0.05)
        status = await s.stop(grace=5)
        assert status == 0, f"not quit by its own keys (status {status}):\n{s.screen.text()}"
        assert s.stopping and not (await s.submit("too late")).submitted
    finally:
        s.kill_now()
