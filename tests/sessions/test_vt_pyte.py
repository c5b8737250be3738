"""The pyte fallback (used where pyghostty has no wheel): the basics work, the crashes are swallowed."""
from __future__ import annotations

import pytest

pytest.importorskip("pyte", reason="pyte is the fallback engine; install it (test extras) to check it here")

from gastown_tui.sessions.presets import load_presets  # noqa: E402
from gastown_tui.sessions.session import Session, SessionSpec  # noqa: E402
from gastown_tui.sessions.states import SessionState  # noqa: E402
from gastown_tui.sessions.vt import Style, new_screen  # noqa: E402


def test_pyte_screen_basics_styles_and_replies():
    s = new_screen(40, 5, engine="pyte")
    assert s.engine == "pyte"
    replies, oscs = [], []
    s.on_reply = replies.append
    s.on_osc = lambda n, p: oscs.append((n, p))
    s.feed(b"plain \x1b[1;31mbold red\x1b[0m\r\n")
    s.feed("wide 日本 ".encode() + b"\xe2")
    s.feed(b"\x94\x80\r\n")  # a UTF-8 character split across feeds
    # vim 9 and Gemini CLI send these; pyte itself would raise on them.
    s.feed(b"\x1b[?4m\x1b[>4;2m\x1b[5;3H\x1b[6n\x1b[c\x1b]7501;state=idle:app=codex\x1b\\")
    frame = s.render()
    assert [r.text for r in frame.rows[0].runs][:2] == ["plain ", "bold red"]
    assert frame.rows[0].runs[1].style == Style(fg=1, bold=True)
    assert frame.rows[1].text.rstrip() == "wide 日本 ─"
    assert replies[0] == b"\x1b[5;3R" and replies[1].endswith(b"c")
    assert oscs == [(7501, "state=idle:app=codex")]


def test_pyte_scrollback_and_viewport():
    s = new_screen(20, 5, scrollback_lines=100, engine="pyte")
    s.feed(b"".join(b"line %d\r\n" % i for i in range(300)))
    assert s.scrollback_rows == 100
    assert s.history_text().splitlines()[-1] == "line 299"
    s.scroll_viewport(-2)
    assert s.render().rows[0].text.rstrip() == "line 294"


async def test_a_session_runs_on_the_pyte_engine(tmp_path):
    s = Session(SessionSpec("mayor/", load_presets()["shell"], cwd=tmp_path, town=tmp_path, engine="pyte"))
    await s.start()
    try:
        assert s.screen.engine == "pyte"
        assert await s.wait_state({SessionState.IDLE}, timeout=20)
        result = await s.submit("echo pyte-$((6*7))")
        assert result.submitted
        assert "pyte-42" in s.screen.lines()
    finally:
        await s.stop()
