"""A session's state tracking: classifying its screen with the preset's rules (debounced, promptly while
someone waits), setting the state and telling the listeners, and waiting for a state. One `SessionStates`
per `Session` (sessions/session.py), which delegates; the state itself (`state`, `state_rule`,
`state_detail`) stays on the session."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from typing import TYPE_CHECKING

from gastown_tui.sessions.rules import Observation
from gastown_tui.sessions.states import SessionState, StateChange

if TYPE_CHECKING:
    from gastown_tui.sessions.session import Session


class SessionStates:
    """The classifier's timer, the state-changed event and the waiters of one session."""

    def __init__(self, session: "Session") -> None:
        self.session = session
        self.handle: asyncio.TimerHandle | None = None
        self._changed = asyncio.Event()
        self.waiters = 0  # coroutines waiting on a state: classify promptly while > 0

    def cancel(self) -> None:
        """Drops a pending classification."""
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None

    def schedule(self) -> None:
        s = self.session
        if self.handle is None and s._loop is not None:
            delay = 0.03 if self.waiters else 0.25
            self.handle = s._loop.call_later(delay, self.classify)

    def classify(self) -> None:
        s = self.session
        self.handle = None
        now = time.monotonic()
        lines = s.screen.lines()
        if s._detector.note_screen(lines, now):
            s.last_screen_change_at = now
            if s.screen.modes.alt_screen:
                s.screen_log.note(lines)
        obs = Observation(lines, s.screen.cursor.y, s.screen.title, s.osc7501, now,
                          s.last_output_at, exited=s.exited)
        state, rule, detail = s._detector.classify(obs)
        self.set(state, rule, detail)

    def set(self, state: SessionState, rule: str, detail: str) -> None:
        s = self.session
        if state == s.state:
            return
        old = s.state
        s.state, s.state_rule, s.state_detail = state, rule, detail
        self._changed.set()
        self._changed = asyncio.Event()
        if state in (SessionState.IDLE, SessionState.NEEDS_APPROVAL) and s._text.dirty:
            s._text.flush()  # the agent paused: a good moment for seance's plain-text copy
        s._emit(StateChange(s.id, s.agent, old, state, rule, detail, time.time()))

    async def wait(self, states: Collection[SessionState], timeout: float | None = None) -> bool:
        """Waits until the state is one of `states` (or exited); False on timeout."""
        s = self.session
        deadline = None if timeout is None else time.monotonic() + timeout
        self.waiters += 1
        try:
            while s.state not in states:
                if s.exited:
                    return SessionState.EXITED in states
                self.schedule()
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                event = self._changed
                try:
                    await asyncio.wait_for(event.wait(), timeout=min(left, 0.25) if left is not None else 0.25)
                except asyncio.TimeoutError:
                    pass
            return True
        finally:
            self.waiters -= 1
