"""The ledger: a Beads-compatible JSONL store (models, codec, ids, store, ready graph).

`Ledger`, `find_beads_dir` and the errors import without pydantic; `Issue`,
`Dependency` and `Comment` (pydantic models) load on first use, which keeps the
`gastown bd` command path fast.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from gastown_tui.beads.errors import ClaimConflict, CycleError, LedgerError, MalformedLedger, ValidationError
from gastown_tui.beads.actors import default_actor
from gastown_tui.beads.ledger import Ledger, find_beads_dir

if TYPE_CHECKING:   # what __getattr__ below hands out
    from gastown_tui.beads.models import Comment, Dependency, Issue

__all__ = [
    "Ledger", "Issue", "Dependency", "Comment", "find_beads_dir", "default_actor",
    "LedgerError", "MalformedLedger", "ValidationError", "CycleError", "ClaimConflict",
]


def __getattr__(name: str) -> object:
    if name in ("Issue", "Dependency", "Comment"):
        from gastown_tui.beads import models  # deferred: pydantic, only for callers that want models

        return getattr(models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
