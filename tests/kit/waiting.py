"""Waiting in async tests for something a user would see: poll a condition until it holds.

A positive wait ends as soon as the condition holds, so its timeout is generous: a loaded CI machine
(2 cores, the suite running on both) can be many times slower than a developer's. A wait that runs
out raises, naming what it waited for; `assert await until(...)` reads as well as `await until(...)`."""
from __future__ import annotations

import asyncio
import time


async def until(condition, timeout: float = 30.0, interval: float = 0.02, what: str | None = None) -> bool:
    """True as soon as `condition()` is true; AssertionError (naming WHAT) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(interval)
    if condition():
        return True
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what or getattr(condition, '__name__', 'a condition')}")
