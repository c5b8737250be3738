"""What the app makes of the town's JSON answers, and the ledger rules its forms check as you type.

Reads come back from the link as JSON-able data (the same through the socket and in process); these
turn them into the objects the screens render. Run the decoders off the loop (`app.load(decode=...)`).
"""
from __future__ import annotations

from gastown_tui.errors import UserError


def beads_from_wire(found: list[dict]) -> list:
    """The beads of `beads.all` (already in the town's order) as the ledger's Issue objects."""
    # deferred on purpose: pydantic (~0.3 s) loads when the Beads screen first loads, not at start-up
    from gastown_tui.beads.models import Issue

    return [Issue.model_validate(b) for b in found]


def priority_problem(text: str) -> str | None:
    """What is wrong with a typed priority (the ledger's own rule: 0-4 or P0-P4), or None."""
    from gastown_tui.beads.validate import check_priority  # deferred with beads_from_wire (pydantic)

    try:
        check_priority(text)
    except UserError as exc:
        return str(exc)
    return None
