"""What the ledger refuses on create and update, with the reason."""
from __future__ import annotations

from collections.abc import Iterable

from gastown_tui.beads.errors import ValidationError

MAX_TITLE = 500
STATUSES = ("open", "in_progress", "blocked", "deferred", "closed", "pinned", "hooked")
CORE_TYPES = ("bug", "feature", "task", "epic", "chore")
KNOWN_TYPES = CORE_TYPES + (
    "decision", "message", "molecule", "gate", "spike", "story", "milestone", "event",
    "merge-request", "convoy", "agent", "role", "rig", "slot",
)
TYPE_ALIASES = {
    "enhancement": "feature", "feat": "feature", "dec": "decision", "adr": "decision",
    "investigation": "spike", "timebox": "spike", "user-story": "story", "ms": "milestone",
    "mr": "merge-request",
}


def check_title(title: object) -> str:
    if not isinstance(title, str) or not title.strip():
        raise ValidationError("title is required")
    if len(title) > MAX_TITLE:
        raise ValidationError(f"title is {len(title)} characters; the limit is {MAX_TITLE}")
    return title


def check_priority(priority: object) -> int:
    if isinstance(priority, str):
        text = priority.strip().upper().removeprefix("P")
        if not text.isdigit():
            raise ValidationError(f"priority {priority!r} is not a number 0-4 (or P0-P4)")
        priority = int(text)
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 4:
        raise ValidationError(f"priority {priority!r} is out of range: use 0 (critical) to 4 (backlog)")
    return priority


def check_status(status: object, custom: Iterable[str] = ()) -> str:
    allowed = STATUSES + tuple(custom)
    if not isinstance(status, str) or status not in allowed:
        raise ValidationError(f"status {status!r} is not one of {', '.join(allowed)}")
    return status


def check_type(issue_type: object, custom: Iterable[str] = ()) -> str:
    if not isinstance(issue_type, str) or not issue_type:
        raise ValidationError("issue type is required")
    t = TYPE_ALIASES.get(issue_type, issue_type)
    if t not in KNOWN_TYPES and t not in custom:
        raise ValidationError(
            f"issue type {issue_type!r} is not one of {', '.join(KNOWN_TYPES)} "
            f"(add it to types.custom in .beads/config.yaml)"
        )
    return t


def check_dep_type(dep_type: object) -> str:
    if not isinstance(dep_type, str) or not 1 <= len(dep_type) <= 50:
        raise ValidationError(f"dependency type {dep_type!r} must be 1-50 characters")
    return dep_type
