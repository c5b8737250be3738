"""One frame timer per app drives every terminal pane.

Thirty panes with a timer each would wake the event loop thirty times a frame;
one clock wakes it once and asks each registered pane to draw what changed.
Panes draw at the clock's rate when focused and every third tick otherwise;
hidden panes skip the tick entirely (their sessions keep parsing).
"""
from __future__ import annotations

import weakref
from typing import Protocol


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
