"""Output listeners come and go with panes: a removed one hears nothing more; removing twice is fine."""
from __future__ import annotations

import asyncio

from gastown_tui.sessions.session import Session, SessionSpec
from gastown_tui.sessions.states import SessionState
from waiting import until as _until


async def test_a_removed_output_listener_hears_no_more_output(tmp_path):
    s = Session(SessionSpec("gastown/polecats/nux", "shell", cwd=tmp_path))
    await s.start()
    try:
        await s.wait_state({SessionState.IDLE}, timeout=20)
        old_pane, new_pane = [], []
        on_old, on_new = (lambda src: old_pane.append(src.output_seq)), (lambda src: new_pane.append(src.output_seq))
        s.add_output_listener(on_old)
        s.write(b"echo first-pane\r")
        assert await _until(lambda: "first-pane" in s.screen.text() and old_pane)
        # The pane re-attaches: the old callback goes, a new one comes.
        s.remove_output_listener(on_old)
        s.add_output_listener(on_new)
        heard_before = len(old_pane)
        s.write(b"echo second-pane\r")
        assert await _until(lambda: s.screen.text().count("second-pane") >= 2 and new_pane)
        await asyncio.sleep(0.2)
        assert len(old_pane) == heard_before
        assert new_pane and all(seq > old_pane[-1] for seq in new_pane)
        s.remove_output_listener(on_old)      # not there any more: no error
        s.remove_output_listener(lambda src: None)
    finally:
        await s.stop()
