"""Which ledger holds a bead: the town's (`hq-`) or a rig's (its own prefix).

Ids are routed by prefix, as Beads' routes.jsonl does. Ledger objects are
cached per thread (a Ledger is not thread-safe; each reloads itself when its
file changes, and their file locks keep threads apart as they do processes).
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from gastown_tui.errors import nearest, NotFound
from gastown_tui.town.layout import Town
from gastown_tui.beads import Ledger
from gastown_tui.town.rig_registry import get_rig, load_registry

if TYPE_CHECKING:   # the models load pydantic, which `gastown bd list` never needs
    from gastown_tui.beads.models import Issue

TOWN_PREFIX = "hq"
_LOCAL = threading.local()


def open_ledger(beads_dir: Path) -> Ledger:
    beads_dir = Path(beads_dir)
    cache: dict[Path, Ledger] | None = getattr(_LOCAL, "ledgers", None)
    if cache is None:
        cache = _LOCAL.ledgers = {}
    ledger = cache.get(beads_dir)
    if ledger is None:
        ledger = Ledger.open(beads_dir)
        cache[beads_dir] = ledger
    return ledger


def town_ledger(town: Town) -> Ledger:
    return open_ledger(town.beads_dir)


def rig_ledger(town: Town, rig: str) -> Ledger:
    return open_ledger(get_rig(town, rig).beads_dir)


def prefix_of(bead_id: str) -> str:
    return bead_id.split("-", 1)[0]


def ledger_for_id(town: Town, bead_id: str) -> Ledger:
    """The ledger whose prefix matches BEAD_ID; NotFound naming the known prefixes otherwise."""
    prefix = prefix_of(bead_id)
    if prefix == TOWN_PREFIX:
        return town_ledger(town)
    registry = load_registry(town)
    for name, entry in registry.items():
        if entry.get("beads", {}).get("prefix", "").rstrip("-") == prefix:
            return open_ledger(town.rig_dir(name) / ".beads")
    known = [TOWN_PREFIX] + [e.get("beads", {}).get("prefix", "").rstrip("-") for e in registry.values()]
    raise NotFound(f"unknown bead {bead_id!r}: no ledger has prefix {prefix!r} (known prefixes: {', '.join(known)})")


def all_ledgers(town: Town) -> list[Ledger]:
    """The town ledger, then each rig's, in rig-name order."""
    out = [town_ledger(town)]
    for name in sorted(load_registry(town)):
        beads = town.rig_dir(name) / ".beads"
        if beads.is_dir():
            out.append(open_ledger(beads))
    return out


def get_bead(town: Town, bead_id: str) -> tuple[Ledger, Issue]:
    """(ledger, issue) for BEAD_ID; NotFound names the nearest ids in that ledger."""
    ledger = ledger_for_id(town, bead_id)
    return ledger, ledger.get(bead_id)


def nearest_ids(ledger: Ledger, bead_id: str) -> list[str]:
    return nearest(bead_id, [i.id for i in ledger.all()])
