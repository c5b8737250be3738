"""The app's process and Python's garbage collector.

Everything the app builds as it starts (Textual, the screens, the town's view) lives as long as the app, yet
with Python's default thresholds the collector keeps walking it: a young collection every 700 allocations,
and now and then a full one over a few hundred thousand objects, some 20-50 ms each, during the imports and
before the first frame (measured: the attached app's first frame came some 10 % sooner without them). The
app's own process (`gastown` / `gastown app`, not tests that run many apps) does not collect from its first
line (`start`) until its first full frame is out; then it collects once, freezes what it built and collects
young objects less often from then on (`tune`), so a full collection never lands in the middle of a key
press either. The app tunes at the latest START_LIMIT seconds after it starts, whatever happened (a Welcome
screen, a town that never answered). Standard library only: `start` runs before anything else is imported.
"""
from __future__ import annotations

import gc

THRESHOLDS = (20_000, 20, 50)
START_LIMIT = 5.0  # seconds: the app tunes the collector by then at the latest


def start() -> None:
    """From the process's first line: no collection until `tune` (the start's objects all live on)."""
    gc.disable()


def collect_young_less_often() -> None:
    """The app's thresholds from now on (`tune` sets them too): young objects collected less often."""
    gc.set_threshold(*THRESHOLDS)


def tune() -> None:
    """Everything built so far lives as long as the app: collected once, then frozen out of the collector's
    way (a full collection takes some 30-100 ms, which an attached app's first frame need not wait for), and
    young objects collected less often from now on."""
    gc.collect()
    gc.freeze()
    collect_young_less_often()
    gc.enable()
