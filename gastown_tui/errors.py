"""Errors the command line reports as one line on stderr with exit status 1."""
from collections.abc import Iterable


class UserError(Exception):
    """Something the user asked for cannot be done; the message says why."""


class NotFound(UserError):
    """An id, rig, address or name that does not exist (message names the nearest known ones)."""


def nearest(name: str, known: Iterable[str], limit: int = 3) -> list[str]:
    """The known names closest to `name`, for 'did you mean' messages."""
    import difflib

    names = list(known)
    close = difflib.get_close_matches(name, names, n=limit, cutoff=0.5)
    if not close:
        close = [k for k in names if k.startswith(name[: max(1, len(name) - 2)])][:limit]
    return close


def not_found(kind: str, name: str, known: Iterable[str]) -> NotFound:
    """A NotFound whose message lists the nearest known names."""
    near = nearest(name, known)
    hint = f" (nearest: {', '.join(near)})" if near else ""
    return NotFound(f"unknown {kind} {name!r}{hint}")
