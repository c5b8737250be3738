"""Sessions on real PTYs: environment, echo, keys, resize, transcript, exit status."""
from __future__ import annotations

import json
import re
import signal
import sys

import pytest

from gastown_tui.sessions.presets import load_presets
from gastown_tui.sessions.session import Session, SessionError, SessionSpec
from gastown_tui.sessions.states import SessionExited, SessionState, StateChange
from waiting import until as _until


@pytest.fixture
def town(tmp_path):
    (tmp_path / ".runtime").mkdir()
    return tmp_path


async def test_shell_session_runs_in_its_workdir_with_the_agent_environment(town):
    work = town / "rig" / "polecats" / "nux"
    work.mkdir(parents=True)
    s = Session(SessionSpec("gastown/polecats/nux", "shell", cwd=work, town=town))
    await s.start()
    try:
        assert await s.wait_state({SessionState.IDLE}, timeout=20)
        s.write(b"echo $PWD; echo $GT_TOWN $GT_RIG $GT_ROLE $GT_AGENT $BD_ACTOR; echo ${PATH%%:*}; echo $TERM\r")
        assert await _until(lambda: "xterm-256color" in s.screen.text())
        text = s.screen.history_text()  # soft wraps joined: the paths can be longer than a row
        assert str(work) in text
        assert f"{town} gastown polecat gastown/polecats/nux gastown/polecats/nux" in text
        assert f"{town}/.runtime/shims" in text
    finally:
        await s.stop()


async def test_an_agent_launched_from_ci_still_gets_an_interactive_environment(town, monkeypatch):
    """Gemini CLI exits at once (status 42) when it sees CI=true; the agent's PTY is a real terminal."""
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("CI_JOB_ID", "7")
    monkeypatch.setenv("KEEP_ME", "kept")
    s = Session(SessionSpec("mayor/", "shell", cwd=town, town=town, env={"CI": "1"}))
    await s.start()
    try:
        await s.wait_state({SessionState.IDLE}, timeout=20)
        s.write(b"echo \"ci=[$CI] gha=[$GITHUB_ACTIONS] job=[$CI_JOB_ID] keep=[$KEEP_ME]\"\r")
        # the echoed command line shows `$CI`; only the output line has the values
        assert await _until(lambda: "ci=[] gha=[] job=[] keep=[kept]" in [l.strip() for l in s.screen.lines()])
    finally:
        await s.stop()


async def test_typed_keys_reach_the_program_and_the_screen_shows_the_echo(town):
    s = Session(SessionSpec("mayor/", "shell", cwd=town, town=town))
    await s.start()
    try:
        await s.wait_state({SessionState.IDLE}, timeout=20)
        for ch in "echo abc":
            s.send_key(ch)
        s.send_key("left")
        s.send_key("left")
        s.send_key("backspace")  # removes the 'a'
        s.send_key("enter")
        assert await _until(lambda: "bc" in s.screen.lines() or any(l == "bc" for l in s.screen.lines()))
        s.send_key("ctrl+c")
    finally:
        await s.stop()


async def test_terminal_queries_get_answers_from_the_session(town):
    s = Session(SessionSpec("mayor/", "shell", cwd=town, town=town))
    await s.start()
    try:
        await s.wait_state({SessionState.IDLE}, timeout=20)
        # A program asks for the cursor position and reads the reply from its terminal. Echo goes off before
        # asking: a reply that beats `read` to the tty would otherwise be echoed (`^[[2;1R`) on the line.
        s.write(b"stty -echo; printf '\\033[6n'; IFS= read -r -d R reply; stty echo; echo \"[${reply#*[}]\"\r")
        assert await _until(lambda: any(re.fullmatch(r"\[\d+;\d+\]", line) for line in s.screen.lines()))
    finally:
        await s.stop()


async def test_resize_reaches_the_program(town):
    s = Session(SessionSpec("mayor/", "shell", cwd=town, town=town, cols=100, rows=30))
    await s.start()
    try:
        await s.wait_state({SessionState.IDLE}, timeout=20)
        s.resize(90, 20)
        s.write(b"stty size\r")
        assert await _until(lambda: "20 90" in s.screen.lines())
        assert s.screen.cols == 90 and s.screen.rows == 20
    finally:
        await s.stop()


async def test_exit_status_and_transcript_are_kept(town):
    preset = load_presets()["shell"]
    s = Session(SessionSpec("gastown/crew/max", preset, cwd=town, town=town,
                            argv=["bash", "--norc", "-c", "printf 'héllo wörld\\n'; exit 7"]))
    events = []
    s.add_listener(events.append)
    await s.start()
    assert await s.wait_exit(5) == 7
    assert s.state is SessionState.EXITED and s.state_rule == "process.exit"
    folder = town / ".runtime" / "sessions" / "gastown--crew--max" / s.id
    assert s.transcript_dir == folder
    assert b"h\xc3\xa9llo w\xc3\xb6rld" in (folder / "transcript.raw").read_bytes()
    assert "héllo wörld" in (folder / "transcript.txt").read_text(encoding="utf-8")
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["exit_status"] == 7 and meta["agent"] == "gastown/crew/max" and meta["ended_at"]
    assert any(isinstance(e, SessionExited) and e.exit_status == 7 for e in events)
    assert any(isinstance(e, StateChange) and e.new is SessionState.EXITED and e.rule == "process.exit" for e in events)


async def test_a_missing_program_is_a_clear_error(town):
    preset = load_presets()["shell"]
    s = Session(SessionSpec("mayor/", preset, cwd=town, town=town, argv=["no-such-agent-cli-xyz"]))
    with pytest.raises(SessionError, match="no-such-agent-cli-xyz"):
        await s.start()


def test_a_bad_address_or_preset_is_a_clear_error(town):
    with pytest.raises(SessionError, match="not an agent address"):
        Session(SessionSpec("not an address!", "shell", cwd=town, town=town))
    with pytest.raises(SessionError, match="unknown preset 'nope'"):
        Session(SessionSpec("mayor/", "nope", cwd=town, town=town))


async def test_many_sessions_share_the_loop_without_threads(town):
    import threading

    before = threading.active_count()
    sessions = []
    for i in range(6):
        preset = load_presets()["shell"]
        s = Session(SessionSpec(f"rig/polecats/p{i}", preset, cwd=town, town=town,
                                argv=[sys.executable, "-c", f"print('session-{i}-' * 3)"]))
        await s.start()
        sessions.append(s)
    assert threading.active_count() == before
    for i, s in enumerate(sessions):
        assert await s.wait_exit(5) == 0
        assert f"session-{i}-session-{i}-" in s.screen.text()


async def test_a_real_cli_gets_its_own_seeded_home(town):
    # A stand-in program named `claude`: the session picks the CLI by program name.
    bindir = town / "bin"
    bindir.mkdir()
    fake = bindir / "claude"
    fake.write_text("#!/bin/sh\necho HOME=$HOME\n")
    fake.chmod(0o755)
    preset = load_presets()["claude"]
    s = Session(SessionSpec("gastown/polecats/nux", preset, cwd=town, town=town, argv=[str(fake)]))
    await s.start()
    assert await s.wait_exit(5) == 0
    home = town / ".runtime" / "homes" / "gastown--polecats--nux"
    assert f"HOME={home}" in s.screen.history_text()
    assert home.is_dir()


def test_raw_transcript_rotates_instead_of_growing_forever(tmp_path):
    from gastown_tui.sessions.transcript import Transcript

    tr = Transcript(tmp_path / "s", rotate_bytes=1000)
    for i in range(25):
        tr.append(bytes([65 + i % 26]) * 100)
    tr.close()
    raw, old = tmp_path / "s" / "transcript.raw", tmp_path / "s" / "transcript.raw.1"
    assert raw.stat().st_size <= 1000 and old.stat().st_size == 1000
    assert raw.read_bytes().endswith(b"Y" * 100) and tr.bytes_written == 2500


async def test_an_agent_gets_default_signals_though_its_server_was_started_ignoring_them(town):
    """A server started in the background by a script ignores SIGINT (and Python ignores SIGPIPE): its agents
    still stop on a ctrl+c typed into their pane, and a pipe in their shell ends quietly, as in a terminal."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as `gastown up &` from a script leaves it
    try:
        s = Session(SessionSpec("mayor/", "shell", cwd=town, town=town))
        await s.start()
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        await s.wait_state({SessionState.IDLE}, timeout=20)
        s.write(b"yes | head -n 1; echo piped-$?\r")
        assert await _until(lambda: "piped-0" in s.screen.text(), timeout=20)
        assert "Broken pipe" not in s.screen.text()  # `yes` ended by SIGPIPE, silently, not told of EPIPE
        program = "import time; print('program-' + 'running', flush=True); time.sleep(120)"
        s.write(f'exec {sys.executable} -c "{program}"\r'.encode())
        assert await _until(lambda: "program-running" in s.screen.text(), timeout=20)
        s.write(b"\x03")  # ctrl+c: the terminal's SIGINT ends it (and with `exec`, the session)
        assert await s.wait_exit(timeout=20) is not None, "ctrl+c did not stop the agent's program"
    finally:
        await s.stop()
