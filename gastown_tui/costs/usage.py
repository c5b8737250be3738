"""One model call's token use, as an agent CLI recorded it."""
from __future__ import annotations

from dataclasses import dataclass

FIELDS = ("input", "output", "cache_write", "cache_read")

# What reading a broken usage record raises (a wrong type, a missing field, a bad number or time): the
# record becomes a Problem, never a crash.
BROKEN = (ValueError, TypeError, KeyError, AttributeError, OverflowError, OSError)


@dataclass(slots=True)
class Usage:
    cli: str            # claude | codex | gemini
    agent_key: str      # the home it was found in
    session: str        # the CLI's own session id
    ts: float           # unix time of the call
    model: str | None   # None: the record did not say
    input: int = 0      # tokens read fresh (not from a cache)
    output: int = 0
    cache_write: int = 0
    cache_read: int = 0

    @property
    def tokens(self) -> int:
        return self.input + self.output + self.cache_write + self.cache_read


@dataclass(slots=True)
class Problem:
    """A record that could not be read: counted as unknown, never as zero, never a crash."""

    path: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        return f"{self.path}{f':{self.line}' if self.line else ''}: {self.reason}"


def as_int(value: object) -> int:
    """A token count from a record (a missing one is 0; anything not a whole number raises ValueError)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"not a token count: {value!r}")
    return value


def as_ints(a: object, b: object, c: object, d: object) -> tuple[int, int, int, int]:
    """Four token counts at once (the common case, four whole numbers, in one check)."""
    if type(a) is int and type(b) is int and type(c) is int and type(d) is int and min(a, b, c, d) >= 0:
        return a, b, c, d
    return as_int(a), as_int(b), as_int(c), as_int(d)
