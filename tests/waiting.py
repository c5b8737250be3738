"""Waiting in async tests for something a user would see: poll a condition until it holds.

A positive wait ends as soon as the condition holds, so its timeout is generous: a loaded CI machine
(2 cores, the suite running on both) can be many times slower than a developer's."""
from __future__ import annotations

import asyncio
import time


async def until(condition, timeout: float = 30.0, interval: float = 0.02) -> bool:
    """True as soon as `condition()` is true; False if it still is not after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(interval)
    return bool(condition())
