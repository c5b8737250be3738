"""A formula step's Ralph loop: `ralph = { check = "CMD", max_attempts = N, timeout = "10m" }`.

The step is worked in a fresh agent session again and again until CMD (run in
the polecat's worktree) exits 0, at most `max_attempts` times. Here only the
spec: its shape, its defaults and how it is stored on the step bead
(`metadata.ralph`); running the loop is `town/ralph.py`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_ATTEMPTS = 3
DEFAULT_TIMEOUT = 600.0
RALPH_KEYS = {"check", "max_attempts", "timeout"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def duration_seconds(value: object) -> float | None:
    """"10m", "30s", "1h", "500ms" or a number of seconds -> seconds (None when it is none of those)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value > 0 else None
    if not isinstance(value, str):
        return None
    m = _DURATION.match(value)
    if not m:
        return None
    seconds = float(m.group(1)) * _UNIT[m.group(2)]
    return seconds if seconds > 0 else None


@dataclass(frozen=True)
class RalphSpec:
    check: str
    max_attempts: int = DEFAULT_ATTEMPTS
    timeout: float = DEFAULT_TIMEOUT     # seconds

    def to_json(self) -> dict:
        return {"check": self.check, "max_attempts": self.max_attempts, "timeout": self.timeout}

    @classmethod
    def from_json(cls, data: object) -> "RalphSpec | None":
        """The spec stored on a step bead, or None when there is none (or it is not a spec)."""
        if not isinstance(data, dict) or not isinstance(data.get("check"), str) or not data["check"].strip():
            return None
        attempts = data.get("max_attempts", DEFAULT_ATTEMPTS)
        timeout = duration_seconds(data.get("timeout", DEFAULT_TIMEOUT))
        return cls(data["check"], attempts if isinstance(attempts, int) and attempts > 0 else DEFAULT_ATTEMPTS,
                   timeout or DEFAULT_TIMEOUT)


def parse_ralph(value: object, here: str, problems: list[str]) -> RalphSpec | None:
    """A step's `ralph` table as a spec; each problem is appended naming the step (`here`)."""
    if not isinstance(value, dict):
        problems.append(f"{here}: ralph must be a table like {{ check = \"CMD\", max_attempts = 3, timeout = \"10m\" }}")
        return None
    unknown = sorted(set(value) - RALPH_KEYS)
    if unknown:
        problems.append(f"{here}: ralph: unknown key(s) {', '.join(unknown)} (known: check, max_attempts, timeout)")
    check = value.get("check")
    if not isinstance(check, str) or not check.strip():
        problems.append(f"{here}: ralph.check must be the acceptance command, a non-empty string")
        return None
    attempts = value.get("max_attempts", DEFAULT_ATTEMPTS)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        problems.append(f"{here}: ralph.max_attempts must be a whole number of at least 1, got {attempts!r}")
        return None
    timeout = duration_seconds(value.get("timeout", DEFAULT_TIMEOUT))
    if timeout is None:
        problems.append(f"{here}: ralph.timeout must be a duration like \"10m\", \"30s\" or seconds, "
                        f"got {value.get('timeout')!r}")
        return None
    return RalphSpec(check, attempts, timeout)
