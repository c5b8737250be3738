"""The plain-text copy of a running session (transcript.txt, for seance) is written off the event loop,
and a copy taken earlier never replaces one taken later, whatever order the writes finish in."""
from __future__ import annotations

import threading

import pytest

from gastown_tui.sessions.session import Session, SessionSpec
from gastown_tui.sessions.states import SessionState
from gastown_tui.sessions.transcript import Transcript
from waiting import until as _until


@pytest.fixture
def town(tmp_path):
    (tmp_path / ".runtime").mkdir()
    return tmp_path


def _text(s: Session) -> str:
    path = s.transcript_dir / "transcript.txt"
    return path.read_text(encoding="utf-8") if path.exists() else ""


async def test_the_copy_follows_the_agent_when_it_goes_idle_written_off_the_loop(town, monkeypatch):
    writers: list[str] = []
    write_text = Transcript.write_text

    def recording(self, text: str) -> None:
        writers.append(threading.current_thread().name)
        write_text(self, text)

    monkeypatch.setattr(Transcript, "write_text", recording)
    s = Session(SessionSpec("gastown/crew/max", "shell", cwd=town, town=town))
    await s.start()
    try:
        assert await s.wait_state({SessionState.IDLE}, timeout=20)
        s.write(b"echo copy-marker-$((6*7))\r")
        assert await _until(lambda: "copy-marker-42" in s.screen.text())
        # the shell is idle again at its prompt: the copy now holds the command's output
        assert await _until(lambda: "copy-marker-42" in _text(s)), _text(s)
        assert writers and threading.main_thread().name not in writers, writers  # the loop's thread never waits
    finally:
        await s.stop(grace=1.0)


async def test_an_older_copy_never_replaces_a_newer_one(town):
    s = Session(SessionSpec("gastown/crew/max", "shell", cwd=town, town=town))
    await s.start()
    try:
        older = s._text_job("the older copy")
        newer = s._text_job("the newer copy")
        newer()  # the later copy's write finishes first...
        older()  # ...and the earlier one's, arriving late, is dropped
        assert _text(s) == "the newer copy\n"
    finally:
        await s.stop(grace=1.0)
    assert "the newer copy" not in _text(s)  # the copy made at the exit is newer still: it wins
