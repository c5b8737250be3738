"""Bead ids as Beads makes them (reference/beads-format.md §2).

`<prefix>-<base36 hash>`: sha256 of `title|description|creator|created_at_unix_nanos|nonce`,
the first few bytes read big-endian, written in base 36, left-padded with 0, last
`length` characters kept. Length adapts to how many top-level ids share the prefix;
collisions try nonces 0..9, then a longer hash. Children are `parent.N`, depth <= 3.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable

from gastown_tui.timestamps import to_ns

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_BYTES_FOR_LENGTH = {3: 2, 4: 3, 5: 4, 6: 4, 7: 5, 8: 5}
MIN_LENGTH, MAX_LENGTH = 3, 8
MAX_COLLISION_PROB = 0.25
MAX_DEPTH = 3
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*-[A-Za-z0-9_.-]+$")


def base36(n: int) -> str:
    if n == 0:
        return "0"
    digits = []
    while n:
        n, r = divmod(n, 36)
        digits.append(ALPHABET[r])
    return "".join(reversed(digits))


def hash_suffix(title: str, description: str, creator: str, created_at: str | int, nonce: int, length: int) -> str:
    """The base36 hash part of an id (GenerateHashID)."""
    if length not in _BYTES_FOR_LENGTH:
        raise ValueError(f"hash length must be {MIN_LENGTH}..{MAX_LENGTH}, not {length}")
    ns = created_at if isinstance(created_at, int) else to_ns(created_at)
    digest = hashlib.sha256(f"{title}|{description}|{creator}|{ns}|{nonce}".encode()).digest()
    value = int.from_bytes(digest[: _BYTES_FOR_LENGTH[length]], "big")
    return base36(value).rjust(length, "0")[-length:]


def adaptive_length(count: int, min_length: int = MIN_LENGTH, max_length: int = MAX_LENGTH) -> int:
    """Smallest length whose birthday-collision probability over `count` ids is <= 25 %."""
    for length in range(min_length, max_length + 1):
        if 1 - math.exp(-(count * count) / (2 * 36**length)) <= MAX_COLLISION_PROB:
            return length
    return max_length


def generate(prefix: str, title: str, description: str, creator: str, created_at: str | int,
             exists: Callable[[str], bool], top_level_count: int) -> str:
    """A new id for `prefix` (which may include an infix, e.g. `gt-mol`) that `exists` rejects not."""
    start = adaptive_length(top_level_count)
    for length in range(start, MAX_LENGTH + 1):
        for nonce in range(10):
            candidate = f"{prefix}-{hash_suffix(title, description, creator, created_at, nonce, length)}"
            if not exists(candidate):
                return candidate
    raise RuntimeError(f"could not find a free id for prefix {prefix!r} (every nonce and length collided)")


def depth(bead_id: str) -> int:
    """How many `.N` levels deep a hierarchical id is (0 for a top-level id)."""
    return bead_id.count(".")


def parent_of(bead_id: str) -> str | None:
    """The dotted parent of a hierarchical id (`bd-a3f8.1.2` -> `bd-a3f8.1`), None at top level."""
    head, dot, _ = bead_id.rpartition(".")
    return head if dot else None


def next_child(parent_id: str, existing_ids: Iterable[str], floor: int = 0) -> str:
    """`parent.N` with N one more than the largest numeric direct child, and more than `floor`
    (the parent's child counter: the highest number ever given, deleted children included)."""
    if depth(parent_id) >= MAX_DEPTH:
        raise ValueError(f"{parent_id} is already {MAX_DEPTH} levels deep; children may not nest deeper")
    stem = parent_id + "."
    highest = floor
    for other in existing_ids:
        if other.startswith(stem):
            rest = other[len(stem):]
            if rest.isdigit():
                highest = max(highest, int(rest))
    return f"{stem}{highest + 1}"


def is_valid_id(bead_id: str) -> bool:
    return bool(_ID.match(bead_id or ""))


def prefix_of(bead_id: str) -> str:
    """The prefix before the last `-` of the top-level part (`gt-mol-abc.1` -> `gt-mol`)."""
    top = bead_id.split(".", 1)[0]
    return top.rpartition("-")[0] or top
