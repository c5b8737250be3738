"""A session's plain-text side: what the program said (`conversation_text`), seance's plain-text copy
(transcript.txt, written in worker threads, newest last) and, at exit, the alternate screen's log replayed
into the main screen's scrollback. One `SessionText` per `Session` (sessions/session.py), which delegates."""
from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from gastown_tui.sessions.session import Session
    from gastown_tui.sessions.transcript import Transcript

TEXT_FLUSH_EVERY = 60.0  # history_text() of 10k lines costs ~30 ms; also written at exit


class SessionText:
    """The transcript-text bookkeeping of one session (its screen, screen log and transcript are the
    session's: read through `session`)."""

    def __init__(self, session: "Session") -> None:
        self.session = session
        self.dirty = False
        self.flushed_at = 0.0
        self.log_replayed = False
        self._lock = threading.Lock()  # text copies are written in threads: newest last (job)
        self._seq = self._written = 0

    def due(self, now: float) -> bool:
        """New output since the last copy, and the last copy is TEXT_FLUSH_EVERY old."""
        return self.dirty and now - self.flushed_at >= TEXT_FLUSH_EVERY

    def flush(self) -> None:
        """Seance's plain-text copy, while the session runs. The text is taken here (the engine is not
        thread-safe); the atomic write (its fsync took 16 ms, up to 125 ms, on a busy disk) runs in a
        worker thread, not on the loop that every pane and key waits for."""
        s = self.session
        if s.transcript is None or s._finishing:  # the final copy is closing_job's: nothing after it
            return
        self.dirty = False
        self.flushed_at = time.monotonic()
        job = self.job(self.conversation_text())
        if s._loop is None:     # no loop: write it here
            job()
            return
        try:
            s._loop.run_in_executor(None, job)
        except RuntimeError:    # the loop is shutting down: write it here
            job()

    def final_job(self, transcript: Transcript | None) -> Callable[[], None] | None:
        """The closing copy's job (taken on the loop; None without a transcript); nothing is dirty after."""
        write_text = self.job(self.conversation_text()) if transcript is not None else None
        self.dirty = False
        return write_text

    def replay_screen_log(self) -> None:
        """At exit, back on the main screen: what the program said on the alternate screen is written into
        the screen's scrollback (not the raw transcript), so the finished agent's pane shows it. A plain
        terminal (the `shell` preset: htop, vim, less) is left exactly as tmux would show it."""
        s = self.session
        if not len(s.screen_log) or s.screen.modes.alt_screen or self.log_replayed:
            return
        if not s.preset.keep_alt_screen_text:
            return
        self.log_replayed = True
        text = s.screen_log.text().replace("\n", "\r\n")
        s.screen.feed(("\r\n\x1b[2m── what it said on its alternate screen (kept by gastown) ──\x1b[0m\r\n"
                       f"{text}\r\n\x1b[2m── end ──\x1b[0m\r\n").encode("utf-8", errors="replace"))

    def conversation_text(self) -> str:
        """What the program said: the text it showed on the alternate screen (kept as it changed), then
        the main screen's scrollback and screen (on the loop: the engine is not thread-safe)."""
        s = self.session
        main = s.screen.history_text()
        if not len(s.screen_log) or self.log_replayed:  # replayed at exit: the scrollback holds it
            return main
        return (f"--- on the alternate screen ---\n{s.screen_log.text()}\n"
                f"--- on the main screen ---\n{main}")

    def job(self, text: str) -> Callable[[], None]:
        """A blocking job writing `text` as transcript.txt unless a newer text is already written."""
        self._seq += 1
        seq, transcript = self._seq, self.session.transcript
        if transcript is None:      # the callers look first
            raise RuntimeError(f"session {self.session.id} has no transcript to write its text into")

        def job() -> None:
            with self._lock:
                if seq <= self._written:
                    return
                self._written = seq
                try:
                    transcript.write_text(text)
                except OSError:
                    pass
        return job
