"""One frame timer per app drives every terminal pane.

Thirty panes with a timer each would wake the event loop thirty times a frame;
one clock wakes it once and asks each registered pane to draw what changed.
Panes draw at the clock's rate when focused and every third tick otherwise;
hidden panes skip the tick entirely (their sessions keep parsing).

`draw_now(screen)` paints a screen's pending updates at once instead of at
its next update tick: Textual paints on a fixed 60 Hz grid, so a change made
just after a tick waits up to 1/60 s (more when the process is descheduled).
Panes call it, once per event, for changes a person is waiting on: the pane
switched to another agent, or the echo of a key typed into it. A widget's
`refresh()` reaches the screen through two message hops (the widget's idle
check posts `Update`, the screen's queue takes it), so the paint waits a few
turns of the event loop (`after_loop_turns`), not a fixed time: anything
that misses it is painted by the regular tick.
"""
from __future__ import annotations

import asyncio
import weakref
from typing import Callable, Protocol

from widgets.compat import in_batch_update, paint_now

PAINT_AFTER_TURNS = 3
"""Loop turns between a change and its immediate paint: widgets' idle checks, then the screen's queue."""


def after_loop_turns(turns: int, fn: Callable[[], object]) -> None:
    """Calls `fn()` after `turns` more turns of the running event loop (every task ready now or woken by
    those has run by then). Without a running loop (the app is gone) nothing is called."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return

    def step(left: int) -> None:
        if left > 0:
            loop.call_soon(step, left - 1)
        else:
            fn()

    loop.call_soon(step, turns)


def draw_now(screen) -> bool:
    """Paints `screen`'s pending layout and repaints now, as its update timer would on its next tick.

    Only for the screen on top, outside batch updates. Uses Textual's own tick handler, as Textual's
    `Pilot.pause` does (private: see widgets/compat.py). Returns whether it painted."""
    if not screen.is_current or in_batch_update(screen.app):
        return False
    paint_now(screen)
    return True


class FrameClient(Protocol):
    def on_frame(self, frame: int) -> None: ...


class FrameClock:
    """Calls `on_frame(n)` on every registered pane, `fps` times a second, while any is registered."""

    _clocks: "weakref.WeakKeyDictionary[object, FrameClock]" = weakref.WeakKeyDictionary()

    def __init__(self, app, fps: float = 30.0) -> None:
        self.app = app
        self.fps = fps
        self.frame = 0
        self._clients: list[weakref.ref] = []
        self._timer = None

    @classmethod
    def for_app(cls, app) -> "FrameClock":
        clock = cls._clocks.get(app)
        if clock is None:
            clock = cls._clocks[app] = cls(app)
        return clock

    def register(self, client: FrameClient) -> None:
        if not any(ref() is client for ref in self._clients):
            self._clients.append(weakref.ref(client))
        if self._timer is None:
            self._timer = self.app.set_interval(1 / self.fps, self._tick, name="terminal-frame-clock")
        else:
            self._timer.resume()

    def unregister(self, client: FrameClient) -> None:
        self._clients = [ref for ref in self._clients if ref() is not None and ref() is not client]
        if not self._clients and self._timer is not None:
            self._timer.pause()

    @property
    def clients(self) -> int:
        return sum(1 for ref in self._clients if ref() is not None)

    def _tick(self) -> None:
        self.frame += 1
        for ref in list(self._clients):
            client = ref()
            if client is not None:
                client.on_frame(self.frame)
