"""Big wisps made from their formula on demand (the "formula" step source of beads/wispsteps.py).

Making a wisp of N steps this way writes the root bead, `meta.json` and a
copy of the formula files it was cooked from (so a later edit of a formula
cannot change a wisp already made); no step is produced. A step's bead is made
when something reads it, by seeking into the formula's expansion (seek.py):
the same id, title, description and `needs` edges a stored step would have.

Wisps of fewer than LAZY_MIN_STEPS steps are stored bead by bead as before.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from gastown_tui.atomicfile import write_atomic
from gastown_tui.beads.wispsteps import META, prepare_dir
from gastown_tui.meow.step_record import step_record

if TYPE_CHECKING:   # the cooking engine loads only when a lazy wisp's steps are made (see below)
    from gastown_tui.meow.expand import CookedStep
    from gastown_tui.meow.proto import Proto

LAZY_MIN_STEPS = int(os.environ.get("GASTOWN_LAZY_WISP_MIN", "20000"))
FORMULAS = "formulas"


def step_count(proto: Proto) -> int:
    # deferred: the seeking engine loads when a step is first counted or read
    from gastown_tui.meow.seek import Seeker

    return Seeker(proto.library, proto.formula, proto.vars).count()


def write_steps_dir(beads_dir: Path, root_id: str, proto: Proto, count: int, actor: str, ts: str) -> Path:
    """Writes the wisp's folder: its formula files and meta.json (atomically, meta last)."""
    folder = prepare_dir(beads_dir, root_id)
    snap = folder / FORMULAS
    snap.mkdir(exist_ok=True)
    paths = {p for p in proto.library._parsed}            # every formula file cooking it read
    if proto.formula.path is not None:
        paths.add(proto.formula.path)
    for path in sorted(paths, key=str):
        shutil.copyfile(path, snap / Path(path).name)
    meta = {"version": 1, "count": count, "formula": proto.formula.name, "vars": dict(proto.vars),
            "created_at": ts, "created_by": actor}
    write_atomic(folder / META, json.dumps(meta, indent=1, sort_keys=True) + "\n", 0o644, sync_dir=True)
    return folder


class FormulaSource:
    """Makes the step beads of one lazy wisp from its snapshotted formula."""

    def __init__(self, folder: Path, root_id: str, meta: dict):
        # deferred: the formula engine loads when a lazy wisp is first opened
        from gastown_tui.meow.proto import cook
        from gastown_tui.meow.search import FormulaLibrary
        from gastown_tui.meow.seek import Seeker

        proto = cook(meta["formula"], dict(meta.get("vars") or {}), FormulaLibrary([Path(folder) / FORMULAS]))
        self.seeker = Seeker(proto.library, proto.formula, proto.vars)
        self.count = int(meta["count"])
        self.root_id = root_id
        self.base = {"status": "open", "priority": 2, "issue_type": "task", "created_at": meta["created_at"],
                     "created_by": meta.get("created_by") or "unknown", "updated_at": meta["created_at"]}
        self._gen: Iterator[CookedStep] | None = None
        self._gen_at = -1                # index the live generator yields next
        self._cache: dict[int, CookedStep] = {}
        self._where: dict[str, int] = {}     # step id -> index, for the steps in _cache

    def _step(self, index: int) -> CookedStep:
        hit = self._cache.get(index)
        if hit is not None:
            return hit
        if self._gen is None or self._gen_at != index:
            self._gen = self.seeker.steps_from(index)
            self._gen_at = index
        step = next(self._gen, None)
        self._gen_at += 1
        if step is None:
            raise IndexError(index)
        if len(self._cache) > 64:
            self._cache.clear()
            self._where.clear()
        self._cache[index] = step
        self._where[step.id] = index
        return step

    def _record(self, step: CookedStep, index: int) -> dict:

        rec = dict(self.base)
        rec.update(step_record(self.root_id, step, index, self.base["created_at"]))
        rec["ephemeral"] = True
        return rec

    def record(self, index: int) -> dict:
        return self._record(self._step(index), index)

    def records_from(self, index: int) -> Iterator[dict]:
        for i, step in enumerate(self.seeker.steps_from(index), index):
            yield self._record(step, i)

    def index_of(self, step_id: str) -> int | None:
        sid = step_id[len(self.root_id) + 1:]
        hit = self._where.get(sid)
        if hit is not None:
            return hit
        return self.seeker.index_of(sid)


def open_source(folder: Path, root_id: str, meta: dict) -> FormulaSource:
    return FormulaSource(folder, root_id, meta)
