"""ISO-8601 times from agent records ("2026-12-07T17:37:40.462Z") as unix seconds."""
from __future__ import annotations

from datetime import datetime


def parse_ts(text) -> float:
    if not isinstance(text, str) or not text:
        raise ValueError(f"no timestamp: {text!r}")
    return datetime.fromisoformat(text).timestamp()     # Python 3.11 reads the "Z" itself
