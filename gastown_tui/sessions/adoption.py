"""Taking over an agent an earlier town server started: the other way a `Session` begins.

While a server runs, the keeper (server/keeper.py) holds a copy of every agent's PTY master with a record
of the session (`keeper_record`). When a new server starts, the keeper hands each one over (a
sessions.kept.Kept) and `adopt` gives it to a fresh `Session`: the same PTY master and pid, the same
session id and transcript folder. The screen is rebuilt from the transcript's tail, then the program is
asked to repaint (its size changed and changed back, two SIGWINCHes: the herdr trick). Its exit is seen by
pidfd; the status comes from waitpid or from the keeper."""
from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from gastown_tui.sessions import procs
from gastown_tui.sessions.kept import AdoptedProcess, Kept, KeeperLink
from gastown_tui.sessions.pty_io import window_size
from gastown_tui.sessions.spec import SessionError
from gastown_tui.sessions.transcript import Transcript, raw_tail

if TYPE_CHECKING:
    from gastown_tui.sessions.session import Session

TAIL_BYTES = 512 * 1024  # of the raw transcript, replayed to rebuild the screen


def keeper_record(session: "Session") -> dict:
    """What a later server needs to adopt `session` (sessions/kept.py, SessionManager.adopt_kept)."""
    spec = session.spec
    return {"agent": session.agent, "session_id": session.id, "preset": session.preset.name,
            "transcript_dir": str(session.transcript_dir), "argv": session.argv, "started_at": session.started_at,
            "spec": {"cwd": str(spec.cwd), "town": str(spec.town) if spec.town else None,
                     "env": {str(k): str(v) for k, v in spec.env.items()}, "argv": spec.argv,
                     "beacon": spec.beacon, "cols": spec.cols, "rows": spec.rows,
                     "scrollback_lines": spec.scrollback_lines, "resume": spec.resume, "engine": spec.engine}}


async def adopt(session: "Session", kept: Kept, link: KeeperLink | None = None,
                tail_bytes: int = TAIL_BYTES) -> None:
    """`session` takes over `kept` (handed over by the keeper `link`)."""
    s = session
    if s.process is not None:
        raise SessionError(f"session {s.id} for {s.agent} was already started")
    loop = s._loop = asyncio.get_running_loop()
    record = kept.record
    s.id = record.get("session_id") or s.id
    if record.get("transcript_dir"):
        s.transcript_dir = Path(record["transcript_dir"])
    s.argv = list(record.get("argv") or [])
    s.started_at = record.get("started_at") or time.time()
    s.adopted = True
    s.keeper = link
    s._proc = AdoptedProcess(kept.pid, kept.fd, link, kept.status)
    s.pid = kept.pid
    s._fd = kept.fd
    s.tty = procs.pty_name(kept.fd)
    os.set_blocking(kept.fd, False)
    screen = s.screen
    cols, rows = window_size(kept.fd) or (screen.cols, screen.rows)
    if (cols, rows) != (screen.cols, screen.rows):
        screen.resize(cols, rows)
    tail = await loop.run_in_executor(None, raw_tail, s.transcript_dir, tail_bytes)
    screen.on_reply = lambda data: None  # old queries in the replay are not answered again
    try:
        screen.feed(tail)
    finally:
        screen.on_reply = s.write
    s.transcript = Transcript(s.transcript_dir, write_through=link is not None)
    s.last_output_at = time.monotonic()
    s.begin_running()
    s._check_exit()
    if not s.exited:
        s._states.schedule()
        loop.create_task(_repaint_nudge(s, cols, rows), name=f"session-repaint-{s.agent_key}")


async def _repaint_nudge(session: "Session", cols: int, rows: int) -> None:
    """A size change and back: the program redraws its whole screen."""
    proc = session.process
    if proc is None:        # adopt() set it before this was scheduled
        raise SessionError(f"session {session.id}: no process to repaint")
    try:
        proc.setwinsize(rows, max(2, cols - 1))
        await asyncio.sleep(0.05)
        if not session.exited and (session.screen.cols, session.screen.rows) == (cols, rows):
            proc.setwinsize(rows, cols)
    except OSError:
        pass
