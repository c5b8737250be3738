"""The town's cost book: every model call with its attribution and price, kept up to date incrementally.

`book_for(town_root)` returns one shared CostBook per town in this process (the server keeps it warm, so
a refresh reads only new records); `CostBook.entries()` refreshes and returns Entry rows.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from gastown_tui.costs.attribution import Attribution, address_of, role_rig
from gastown_tui.costs.prices import Prices
from gastown_tui.costs.reader import CostReader
from gastown_tui.costs.usage import Problem, Usage


@dataclass(slots=True)
class Entry:
    usage: Usage
    agent: str
    bead: str | None
    convoy: str | None
    rig: str | None
    role: str
    usd: float | None      # None: the model has no price


class CostBook:
    def __init__(self, town_root: Path):
        self.town_root = Path(town_root)
        self.reader = CostReader(self.town_root)
        self.attribution = Attribution(self.town_root)
        self._lock = threading.Lock()

    def entries(self, prices: Prices | None = None) -> tuple[list[Entry], list[Problem]]:
        prices = prices or Prices.for_town(self.town_root)
        with self._lock:
            records, problems = self.reader.scan()
            self.attribution.refresh()
            att = self.attribution
            out = []
            who: dict[str, tuple[str, str, str | None]] = {}
            for u in records:
                w = who.get(u.agent_key)
                if w is None:
                    address = address_of(u.agent_key)
                    w = who[u.agent_key] = (address, *role_rig(address))
                address, role, rig = w
                bead = att.bead_at(address, u.ts)
                out.append(Entry(u, address, bead, att.convoy_of.get(bead) if bead else None, rig, role,
                                 prices.cost(u)))
            return out, problems


_BOOKS: dict[Path, CostBook] = {}
_BOOKS_LOCK = threading.Lock()


def book_for(town_root: Path) -> CostBook:
    root = Path(town_root).resolve()
    with _BOOKS_LOCK:
        book = _BOOKS.get(root)
        if book is None:
            book = _BOOKS[root] = CostBook(root)
        return book
