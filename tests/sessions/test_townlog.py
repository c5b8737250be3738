"""What the core catches is written down: `<town>/.runtime/gastown.log` (gastown_tui/townlog.py).

Inside the app stderr is not the terminal, so a traceback printed there is lost; a town runtime
configures the log file and the caught errors land in it."""
from __future__ import annotations

import sys

from gastown_tui.patrols.runtime import TownRuntime
from gastown_tui.sessions.manager import SessionManager
from gastown_tui.sessions.session import SessionSpec
from gastown_tui.town.install import install_town
from waiting import until


async def test_a_session_listener_that_raises_is_logged_to_the_town_log(tmp_path):
    town = install_town(tmp_path / "town")
    mgr = SessionManager(town.root)
    TownRuntime(town.root, sessions=mgr, record_events=False, watch=False)  # configures the log
    log_file = town.runtime / "gastown.log"

    def broken(event):
        raise RuntimeError("listener bug 4711")

    mgr.add_listener(broken)
    await mgr.start()
    try:
        await mgr.spawn(SessionSpec("mayor/", "shell", cwd=tmp_path, argv=[sys.executable, "-c", "print('hi')"]))
        assert await until(lambda: log_file.exists() and "listener bug 4711" in log_file.read_text())
        text = log_file.read_text()
        assert "session listener" in text and "Traceback" in text and "RuntimeError" in text
    finally:
        await mgr.close()
