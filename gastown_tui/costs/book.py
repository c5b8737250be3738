"""The town's cost book: every model call with its attribution and price, kept up to date incrementally.

`book_for(town_root)` returns one shared CostBook per town in this process (the server keeps it warm, so
a refresh reads only new records); `CostBook.entries()` refreshes and returns Entry rows.
"""
from __future__ import annotations

import gc
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import chain
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
        self._last: tuple[list[Entry], list[Problem]] | None = None     # the last answer (copies are handed out)
        self.generation = 0     # counts the answers that differed from the one before

    def entries(self, prices: Prices | None = None) -> tuple[list[Entry], list[Problem]]:
        """Every model call with its attribution and price. Only files with new records are worked on
        again, unless the event log (hooks, convoys) or the prices changed since the last call."""
        prices = prices or Prices.for_town(self.town_root)
        with self._lock, _no_gc_pauses():
            files = self.reader.refresh()
            before = self.attribution.offset_key()
            self.attribution.refresh()
            redo_all = before != self.attribution.offset_key() or prices.table != self._prices_table
            self._prices_table = dict(prices.table)
            todo = files.keys() if redo_all else self.reader.changed
            if not todo and self._last is not None:
                return list(self._last[0]), list(self._last[1])      # nothing new anywhere
            for path in todo:
                st = files.get(path)
                if st is None:
                    self._per_file.pop(path, None)
                    continue
                self._per_file[path] = self._entries(st.agent_key, st.records.values(), prices)
            entries = list(chain.from_iterable(self._per_file.values()))
            problems = list(chain.from_iterable(st.problems for st in files.values() if st.problems))
            self._last = (entries, problems)
            self.generation += 1
            return list(entries), list(problems)

    def _entries(self, agent_key: str, usages: Iterable[Usage], prices: Prices) -> list[Entry]:
        """One file's calls (all of one agent) with their attribution and price."""
        w = self._who.get(agent_key)
        if w is None:
            address = address_of(agent_key)
            w = self._who[agent_key] = (address, *role_rig(address))
        address, role, rig = w
        rates = prices.rates
        known: dict[str | None, tuple[float, float, float, float] | None] = {}     # model -> its rates
        out = []
        hooked = address in self.attribution.hooks      # never hooked anything: no bead, no convoy
        bead_at, convoy_of = self.attribution.bead_at, self.attribution.convoy_of
        bead = convoy = None
        for u in usages:
            m = u.model
            r = known[m] if m in known else known.setdefault(m, rates(m))
            if hooked:
                bead = bead_at(address, u.ts)
                convoy = convoy_of.get(bead) if bead else None
            out.append(Entry(u, address, bead, convoy, rig, role, None if r is None else (
                u.input * r[0] + u.output * r[1] + u.cache_write * r[2] + u.cache_read * r[3]) / 1_000_000))
        return out


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """A first read makes some 100,000 objects that all live on: the cyclic collector, which would walk the
    growing heap again and again meanwhile (~10% of the time), waits until the read is done. (Left as it
    was if something else had it off.)"""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


_BOOKS: dict[Path, CostBook] = {}
_BOOKS_LOCK = threading.Lock()


def book_for(town_root: Path) -> CostBook:
    root = Path(town_root).resolve()
    with _BOOKS_LOCK:
        book = _BOOKS.get(root)
        if book is None:
            book = _BOOKS[root] = CostBook(root)
        return book
