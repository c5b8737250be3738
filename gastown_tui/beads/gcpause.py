"""Pausing Python's cycle collector around bulk work on ledger records.

Loading or indexing 100,000 records creates millions of containers; the cycle
collector would walk them again and again while they are being built (doubling
the time). Bead records hold no reference cycles, so pausing it is safe. On the
way out, everything alive is moved to the oldest generation in constant time
(freeze + unfreeze), so the young collections that follow do not walk it either.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

_depth = 0


@contextmanager
def gc_paused() -> Iterator[None]:
    global _depth
    was_enabled = gc.isenabled()
    _depth += 1
    gc.disable()
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            gc.freeze()
            gc.unfreeze()
            if was_enabled:
                gc.enable()
