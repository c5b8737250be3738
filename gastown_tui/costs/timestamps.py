"""ISO-8601 times from agent records ("2026-12-07T17:37:40.462Z") as unix seconds: the town's one
timestamp parser (gastown_tui/timestamps.py), with a clear error for a record that has none."""
from __future__ import annotations

from gastown_tui.timestamps import to_unix


def parse_ts(text: object) -> float:
    if not isinstance(text, str) or not text:
        raise ValueError(f"no timestamp: {text!r}")
    return to_unix(text)
