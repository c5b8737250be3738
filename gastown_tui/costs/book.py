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
        self._per_file: dict[str, list[Entry]] = {}
        self._who: dict[str, tuple[str, str, str | None]] = {}
        self._prices_table: dict | None = None

    def entries(self, prices: Prices | None = None) -> tuple[list[Entry], list[Problem]]:
        """Every model call with its attribution and price. Only files with new records are worked on
        again, unless the event log (hooks, convoys) or the prices changed since the last call."""
        prices = prices or Prices.for_town(self.town_root)
        with self._lock:
            files = self.reader.refresh()
            before = self.attribution.offset_key()
            self.attribution.refresh()
            redo_all = before != self.attribution.offset_key() or prices.table != self._prices_table
            self._prices_table = dict(prices.table)
            todo = files.keys() if redo_all else self.reader.changed
            for path in todo:
                st = files.get(path)
                if st is None:
                    self._per_file.pop(path, None)
                    continue
                self._per_file[path] = [self._entry(u, prices) for u in st.records.values()]
            entries = [e for es in self._per_file.values() for e in es]
            problems = [p for st in files.values() for p in st.problems]
            return entries, problems

    def _entry(self, u: Usage, prices: Prices) -> Entry:
        w = self._who.get(u.agent_key)
        if w is None:
            address = address_of(u.agent_key)
            w = self._who[u.agent_key] = (address, *role_rig(address))
        address, role, rig = w
        bead = self.attribution.bead_at(address, u.ts)
        return Entry(u, address, bead, self.attribution.convoy_of.get(bead) if bead else None, rig, role,
                     prices.cost(u))


_BOOKS: dict[Path, CostBook] = {}
_BOOKS_LOCK = threading.Lock()


def book_for(town_root: Path) -> CostBook:
    root = Path(town_root).resolve()
    with _BOOKS_LOCK:
        book = _BOOKS.get(root)
        if book is None:
            book = _BOOKS[root] = CostBook(root)
        return book
