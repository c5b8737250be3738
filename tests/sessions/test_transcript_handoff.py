"""A predecessor's transcript is complete on disk before its successor starts: `gastown seance` run right after
a restart (the handoff path) shows everything the old session printed, and nothing of it lands in the new
session's folder. The exit is announced only once the transcript is written, even when the reaping task is
cancelled half-way (the loop ending)."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading

from gastown_tui.sessions.manager import SessionManager
from gastown_tui.sessions.session import Session, SessionSpec
from gastown_tui.sessions.states import SessionExited
from gastown_tui.sessions.transcript import FLUSH_BYTES, Transcript
from waiting import until as _until

LINES = 3000
# ~150 KB of numbered lines tagged with this session's id, the last one at once followed by a marker; then it
# waits like an idle agent until it is stopped, and says goodbye.
TALKER = textwrap.dedent(f"""
    import os, sys
    sid = os.environ["GT_SESSION_ID"]
    out = "".join("%s line %05d of the predecessor's work\\n" % (sid, i) for i in range({LINES}))
    sys.stdout.write(out + "ALL-PRINTED-" + sid + "\\n")
    sys.stdout.flush()
    try:
        sys.stdin.read()
    except KeyboardInterrupt:  # the shell preset's quit keys: ^C, ^D
        pass
    sys.stdout.write("GOODBYE-" + sid + "\\n")  # printed while being stopped: part of the transcript too
""")


async def test_seance_right_after_a_restart_shows_all_the_predecessor_printed(tmp_path):
    from gastown_tui.town.install import install_town

    town = install_town(tmp_path / "town")
    mgr = SessionManager(town.root)
    try:
        first = await mgr.spawn(SessionSpec("mayor/", "shell", cwd=town.root, argv=[sys.executable, "-c", TALKER]))
        first.transcript.flush_delay = 600.0  # what is pending when it stops is written by the exit, however slow
        assert await _until(lambda: f"ALL-PRINTED-{first.id}" in first.screen.text()), first.screen.text()
        second = await mgr.restart("mayor/")  # at once: the last output may still be pending in memory
        second.transcript.flush_delay = 600.0
        assert first.exited and second.id != first.id

        raw = (first.transcript_dir / "transcript.raw").read_bytes()
        assert raw.count(f"{first.id} line ".encode()) == LINES and len(raw) > 2 * FLUSH_BYTES
        assert f"ALL-PRINTED-{first.id}\r\n".encode() in raw and raw.endswith(f"GOODBYE-{first.id}\r\n".encode())
        proc = subprocess.run([sys.executable, "-m", "gastown_tui.cli", "seance", "mayor/", "--session", first.id,
                               "--lines", str(LINES + 100)], cwd=town.root, capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 0, proc.stderr
        shown = [ln for ln in proc.stdout.splitlines() if ln.startswith(f"{first.id} line ")]
        assert shown == [f"{first.id} line {i:05d} of the predecessor's work" for i in range(LINES)]
        assert f"ALL-PRINTED-{first.id}" in proc.stdout and f"GOODBYE-{first.id}" in proc.stdout

        # the successor's folder holds the successor's output only
        assert await _until(lambda: f"ALL-PRINTED-{second.id}" in second.screen.text())
        second.transcript.flush()
        mine = (second.transcript_dir / "transcript.raw").read_bytes()
        assert first.id.encode() not in mine and mine.count(f"{second.id} line ".encode()) == LINES

        await mgr.close()  # the app quitting: what the successor said while being stopped is on disk too
        mine = (second.transcript_dir / "transcript.raw").read_bytes()
        assert mine.endswith(f"GOODBYE-{second.id}\r\n".encode()), mine[-200:]
    finally:
        await mgr.close()


async def test_the_exit_is_announced_after_the_transcript_is_closed_even_if_the_reap_is_cancelled(tmp_path,
                                                                                                   monkeypatch):
    started, release, closed = threading.Event(), threading.Event(), threading.Event()
    close = Transcript.close

    def slow_close(self):  # a slow disk: the final flush takes a while, in the teardown thread
        started.set()
        release.wait(20)
        close(self)
        closed.set()

    monkeypatch.setattr(Transcript, "close", slow_close)
    s = Session(SessionSpec("gastown/crew/max", "shell", cwd=tmp_path, town=tmp_path,
                            argv=["sh", "-c", "printf 'last words'; exit 3"]))
    seen: list[bool] = []
    s.add_listener(lambda e: seen.append(closed.is_set()) if isinstance(e, SessionExited) else None)
    await s.start()
    assert await asyncio.to_thread(started.wait, 30)
    threading.Timer(0.5, release.set).start()
    s._reap_task.cancel()  # what asyncio.run does to every task when the app's loop ends
    assert await s.wait_exit(30) == 3
    assert seen == [True]  # announced once, with the transcript closed
    assert b"last words" in (s.transcript_dir / "transcript.raw").read_bytes()
