"""The sessions' clock, one rule: a `Session` times everything on the monotonic
clock (`last_output_at`, `last_screen_change_at`, quiet periods, timeouts), which
never jumps when the wall clock is set; only the two instants it records for
people and other processes, `started_at` and `ended_at` (meta.json, events), are
wall-clock seconds. Code outside the sessions that needs a monotonic instant on
the wall clock (the patrols' views) converts it here, knowing which it has."""
from __future__ import annotations

import time


def monotonic_to_wall(t: float) -> float:
    """A monotonic instant (`time.monotonic()`) as wall-clock seconds (`time.time()`)."""
    return time.time() - (time.monotonic() - t)
