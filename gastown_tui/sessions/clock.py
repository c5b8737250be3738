"""The sessions' clock, one rule: a `Session` times everything on the monotonic
clock (`last_output_at`, `last_screen_change_at`, quiet periods, timeouts), which
never jumps when the wall clock is set; only the two instants it records for
people and other processes, `started_at` and `ended_at` (meta.json, events), are
wall-clock seconds. Code outside the sessions that needs a monotonic instant on
the wall clock (the patrols' views) converts it here, knowing which it has."""
from __future__ import annotations

import time


# wall - monotonic. Reading both clocks at every conversion made the result jitter by however
# long the thread was descheduled between the two reads (seconds on a loaded machine), and the
# Witness then took one quiet spell for two (a second nudge). So the offset is kept, and only
# replaced when the wall clock was really set (a jump of more than STEP seconds).
STEP = 2.0
_offset = time.time() - time.monotonic()


def monotonic_to_wall(t: float) -> float:
    """A monotonic instant (`time.monotonic()`) as wall-clock seconds (`time.time()`); the same
    instant converts to the same value every time, unless the wall clock was set in between."""
    global _offset
    now = time.time() - time.monotonic()
    if abs(now - _offset) > STEP:
        _offset = now
    return t + _offset
