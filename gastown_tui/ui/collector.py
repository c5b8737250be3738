"""The app's process and Python's garbage collector.

Everything the app builds as it starts (Textual, the screens, the town's view) lives as long as the app, yet
with Python's default thresholds the collector keeps walking it: a young collection every 700 allocations,
and now and then a full one over a few hundred thousand objects, some 20-50 ms each, during the imports and
before the first frame. The app's own process (`gastown` / `gastown app`, not tests that run many apps)
collects young objects less often from its first line (`start`), and once its first full frame is out
freezes what it built (`tune`), so a full collection never lands in the middle of a key press either.
Standard library only: `start` runs before anything else is imported.
"""
from __future__ import annotations

import gc

THRESHOLDS = (20_000, 20, 50)


def start() -> None:
    """From the process's first line: young objects are collected less often."""
    gc.set_threshold(*THRESHOLDS)


def tune() -> None:
    """Everything built so far lives as long as the app: collected once, then frozen out of the collector's
    way (a full collection takes some 30-100 ms, which an attached app's first frame need not wait for)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
