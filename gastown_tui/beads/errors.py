"""Errors raised by the ledger. All are UserErrors: the CLI prints them as one line."""
from __future__ import annotations

from pathlib import Path

from gastown_tui.errors import NotFound, UserError, not_found

__all__ = [
    "LedgerError", "MalformedLedger", "ValidationError", "CycleError", "ClaimConflict",
    "NotFound", "UserError", "not_found",
]


class LedgerError(UserError):
    """The ledger cannot do what was asked."""


class MalformedLedger(LedgerError):
    """A file holds lines that are not bead records; nothing is written while they exist."""

    def __init__(self, path: Path, bad: list[tuple[int, str, str]]):
        self.path = path
        self.bad = bad  # (line number, reason, the line)
        first = bad[0]
        more = f" (and {len(bad) - 1} more bad line(s))" if len(bad) > 1 else ""
        super().__init__(
            f"{path}:{first[0]}: {first[1]}: {_start(first[2])}{more}; "
            f"fix the line or run `gastown bd doctor --quarantine`"
        )


def _start(line: str, width: int = 60) -> str:
    line = line.rstrip("\r\n")
    return repr(line[:width] + ("..." if len(line) > width else ""))


class ValidationError(LedgerError):
    """A field value the ledger refuses (title too long, bad priority, unknown status...)."""


class CycleError(LedgerError):
    """Adding a dependency would close a cycle; `cycle` lists the ids around it."""

    def __init__(self, cycle: list[str], dep_type: str):
        self.cycle = cycle
        super().__init__(
            f"refusing {dep_type} dependency: it would make a cycle {' -> '.join(cycle)}"
        )


class ClaimConflict(LedgerError):
    """Someone else holds the bead (or it is no longer open)."""
