"""Random access into a formula's steps, without producing the ones before.

The cooking engine (expand.py) yields a proto's steps in order; for a wisp of a
million steps that takes seconds. A `Seeker` answers three questions about the
same steps far faster, using the shape of the expansion tree:

- `count()`: how many steps there are. The size of an expansion depends only on
  its formula and its var values (unless a condition or `expand_vars` uses
  `{target}`), so sizes are remembered per (template, values): a 20-disc Hanoi
  is counted in about 40 small sums, not a million steps.
- `steps_from(i)`: the steps from index i on, each exactly as the engine makes
  it (same id, texts and `needs`). Whole expansions before i are skipped by
  their size; the ids a later step needs from a skipped expansion (its ends)
  are worked out only when asked for, walking down only the steps that end it.
- `index_of(step_id)`: where a step is, descending into expansions whose id is
  a prefix of the step's id (`{target}.x`); a linear scan is the fallback.

The steps are the engine's own (same templates, same substitution); only the
order of work differs. tests/meow/test_lazy_wisps.py compares both for every
bundled formula.
"""
from __future__ import annotations

from functools import partial
from typing import Callable, Generator, Iterable, Iterator, Mapping, TypeVar, Union

from gastown_tui.meow.errors import FormulaError
from gastown_tui.meow.expand import MAX_DEPTH, MAX_STEPS, CookedStep, Expander, _Compiled, _Level
from gastown_tui.meow.model import Formula
from gastown_tui.meow.search import FormulaLibrary
from gastown_tui.meow.substitute import SubstitutionError

_ALL = float("inf")      # "skip everything": work out the ends, yield nothing
LINEAR_FALLBACK_MAX = 200_000   # index_of scans linearly only molecules up to this size


class _Lazy:
    """A value (a tuple of step ids) worked out on first use."""

    __slots__ = ("fn", "value")

    def __init__(self, fn: Callable[[], Ends]) -> None:
        self.fn: Callable[[], Ends] | None = fn
        self.value: tuple | None = None

    def get(self) -> tuple:
        if self.fn is not None:
            self.value = _force(self.fn())
            self.fn = None
        if self.value is None:      # fn is dropped only once the value is in
            raise RuntimeError("a lazy value was read while it was being worked out")
        return self.value


Ends = Union[tuple, _Lazy]     # the step ids that stand for a level's end (or a step's), maybe not worked out yet
R = TypeVar("R")


def _force(x: Ends) -> tuple:
    while isinstance(x, _Lazy):
        x = x.get()
    return x


def _merge(parts: Iterable[Ends]) -> tuple:
    merged: list[str] = []
    for part in parts:
        for x in _force(part):
            if x not in merged:
                merged.append(x)
    return tuple(merged)


def _finish(gen: Generator[object, None, R]) -> R:
    """Runs a generator that yields nothing to its end; returns its return value."""
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        return stop.value


class Seeker:
    """Random access into the steps of `formula` (resolved and validated) cooked with `values`."""

    def __init__(self, library: FormulaLibrary, formula: Formula, values: dict[str, str],
                 max_steps: int = MAX_STEPS, max_depth: int = MAX_DEPTH):
        self.expander = Expander(library, max_steps, max_depth)
        self.formula = formula
        self.values = values
        self.max_depth = max_depth
        self.max_steps = max_steps
        self.top = _Level(formula, formula.steps)
        self._sizes: dict[tuple[int, int], tuple[Mapping[str, str], int]] = {}
        self._fixed: dict[int, bool] = {}
        self._count: int | None = None

    # ---- size ----------------------------------------------------------------------------
    def _parts(self, level: _Level, c: _Compiled, values: Mapping[str, str],
               target: tuple[str, str, str] | None) -> tuple[_Level | None, tuple]:
        """(the level the step expands into, or None; the step's parts, see _Compiled.parts)."""
        if c.expand is not None:
            sub_level, binder = self.expander._template(c.expand, level.formula.where, c.key)
        else:
            sub_level, binder = None, None
        try:
            parts = c.parts(values, target, binder)
        except SubstitutionError as exc:
            raise FormulaError(f"{level.formula.where}: step {c.key!r}: {exc}") from None
        return sub_level, parts

    def _size_fixed(self, level: _Level) -> bool:
        """Whether the level's size depends only on its var values (never on its target)."""
        key = id(level)
        if key in self._fixed:
            return self._fixed[key]
        self._fixed[key] = True         # a recursion into itself does not make it depend on the target
        fixed = True
        for c in level.steps:
            if (c.condition is not None and c.condition.uses_target) or c.expand_vars.uses_target:
                fixed = False
                break
            if c.expand is not None:
                sub_level, _ = self.expander._template(c.expand, level.formula.where, c.key)
                if not self._size_fixed(sub_level):
                    fixed = False
                    break
        self._fixed[key] = fixed
        return fixed

    def _size(self, level: _Level, values: Mapping[str, str], target: tuple[str, str, str] | None,
              depth: int) -> int:
        if depth > self.max_depth:
            raise FormulaError(
                f"{level.formula.where}: expansion nested deeper than {self.max_depth} levels"
                f" (a recursion without a stopping condition?)")
        key = (id(level), id(values))
        fixed = self._size_fixed(level)
        if fixed:
            hit = self._sizes.get(key)
            if hit is not None and hit[0] is values:
                return hit[1]
        total = 0
        for c in level.steps:
            sub_level, (_, keep, title, description, _, _, sub_values) = self._parts(level, c, values, target)
            if not keep:
                continue
            if sub_level is not None:
                sub_target = (c.id(values, target), title, description) if not fixed else target
                total += self._size(sub_level, sub_values, sub_target, depth + 1)
            else:
                total += 1
            if total > self.max_steps:
                raise FormulaError(f"{self.formula.where}: expands to more than {self.max_steps:,} steps;"
                                   " refusing to go on")
        if fixed:
            self._sizes[key] = (values, total)
        return total

    def count(self) -> int:
        if self._count is None:
            self._count = self._size(self.top, self.values, None, 0)
        return self._count

    # ---- steps from an index -------------------------------------------------------------
    def steps_from(self, start: int = 0) -> Iterator[CookedStep]:
        """The steps from index `start` (0-based, formula order) to the end."""
        return self._level(self.top, self.values, None, (), 0, [max(0, start)])

    def _skipped(self, level: _Level, values: Mapping[str, str], target: tuple[str, str, str] | None,
                 inherited: Ends, depth: int) -> Ends:
        """The ends of a level skipped whole (none of its steps yielded), worked out when needed."""
        return _finish(self._level(level, values, target, inherited, depth, [_ALL]))

    def _level(self, level: _Level, values: Mapping[str, str], target: tuple[str, str, str] | None,
               inherited: Ends, depth: int, skip: list[float]) -> Generator[CookedStep, None, Ends]:
        formula = level.formula
        if depth > self.max_depth:
            raise FormulaError(f"{formula.where}: expansion nested deeper than {self.max_depth} levels")
        resolved: dict[str, Ends] = {}
        ends: Ends = ()
        for c in level.steps:
            needs = c.needs
            final: Ends
            if not needs:
                final = inherited
            elif len(needs) == 1:
                final = resolved[needs[0]]
            else:
                final = _Lazy(partial(_merge, tuple(resolved[n] for n in needs)))
            sub_level, (_, keep, title, description, acceptance, extra, sub_values) = \
                self._parts(level, c, values, target)
            out: Ends
            if not keep:
                out = final
            elif sub_level is not None:
                sid = c.id(values, target)
                sub_target = (sid, title, description)
                if skip[0] > 0:
                    size = None if skip[0] == _ALL else self._size(sub_level, sub_values, sub_target, depth + 1)
                    if size is None or skip[0] >= size:
                        if size is not None:
                            skip[0] -= size
                        out = _Lazy(partial(self._skipped, sub_level, sub_values, sub_target, final, depth + 1))
                    else:
                        out = yield from self._level(sub_level, sub_values, sub_target, final, depth + 1, skip)
                else:
                    out = yield from self._level(sub_level, sub_values, sub_target, final, depth + 1, skip)
            else:
                sid = c.id(values, target)
                if skip[0] > 0:
                    if skip[0] != _ALL:
                        skip[0] -= 1
                else:
                    yield CookedStep(sid, title, description, acceptance, _force(final), c.step.type,
                                     c.step.priority, formula.name, dict(extra) if extra else {})
                out = (sid,)
            resolved[c.key] = out
            if c.is_end:
                if level.single_end or ends == ():
                    ends = out
                else:
                    ends = _Lazy(partial(_merge, (ends, out)))
        return ends

    def step(self, index: int) -> CookedStep | None:
        return next(self.steps_from(index), None)

    # ---- where a step is -----------------------------------------------------------------
    def index_of(self, step_id: str) -> int | None:
        """The index of the step with this (formula) id, or None."""
        found = self._find(self.top, self.values, None, 0, step_id)
        if found is not None:
            return found
        if self.count() <= LINEAR_FALLBACK_MAX:
            for i, step in enumerate(self.steps_from(0)):
                if step.id == step_id:
                    return i
        return None

    def _find(self, level: _Level, values: Mapping[str, str], target: tuple[str, str, str] | None, depth: int,
              step_id: str) -> int | None:
        pos = 0
        for c in level.steps:
            sub_level, (_, keep, title, description, _, _, sub_values) = self._parts(level, c, values, target)
            if not keep:
                continue
            sid = c.id(values, target)
            if sub_level is not None:
                sub_target = (sid, title, description)
                if step_id.startswith(sid + "."):
                    inner = self._find(sub_level, sub_values, sub_target, depth + 1, step_id)
                    if inner is not None:
                        return pos + inner
                pos += self._size(sub_level, sub_values, sub_target, depth + 1)
            else:
                if sid == step_id:
                    return pos
                pos += 1
        return None
