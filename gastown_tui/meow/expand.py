"""Cooking's engine: a resolved formula + var values -> its steps, one at a time.

Steps are produced lazily (a generator), so a formula that expands into a
million steps never holds them all in memory. Each produced step already has
its final id, text and `needs`:

- A step whose `condition` is false is dropped; steps that needed it need what
  it needed instead.
- A step with `expand = "NAME"` (or targeted by `[[compose.expand]]`) is
  replaced by NAME's `[[template]]`, rendered with `{target}` = the step's id
  (and `{target.title}`, `{target.description}`) and with vars = the caller's
  values, overridden by the step's `expand_vars` (themselves substituted, so
  `n = "{{n - 1}}"` passes a smaller count down). Template steps with no
  `needs` inherit the replaced step's needs; steps that needed the replaced
  step need the template's last steps (those no other template step needs).
  An expansion may expand itself: that is how `towers-of-hanoi` recurses.
"""
from __future__ import annotations

import re
from typing import Generator, Iterator, Mapping, Sequence

from gastown_tui.meow.errors import FormulaError
from gastown_tui.meow.model import Formula, Step
from gastown_tui.meow.search import FormulaLibrary
from gastown_tui.meow.substitute import Condition, SubstitutionError, Text, VarTable
from gastown_tui.meow.validate import bind_vars, topo_order

MAX_DEPTH = 64           # nested expansions
MAX_STEPS = 1 << 22      # 4,194,304 steps: far beyond any real workflow, and stops a runaway recursion


class CookedStep:
    """One step of a proto, text substituted, `needs` naming other cooked step ids."""

    __slots__ = ("id", "title", "description", "acceptance", "needs", "type", "priority", "formula", "extra")

    def __init__(self, id: str, title: str, description: str, acceptance: str, needs: Sequence[str], type: str,
                 priority: int | None, formula: str, extra: dict) -> None:
        self.id = id
        self.title = title
        self.description = description
        self.acceptance = acceptance
        self.needs = needs
        self.type = type
        self.priority = priority
        self.formula = formula
        self.extra = extra

    def to_json(self) -> dict:
        data: dict[str, object] = {"id": self.id, "title": self.title}
        if self.description:
            data["description"] = self.description
        if self.acceptance:
            data["acceptance"] = self.acceptance
        data["needs"] = list(self.needs)
        if self.type:
            data["type"] = self.type
        if self.priority is not None:
            data["priority"] = self.priority
        if self.formula:
            data["formula"] = self.formula
        data.update(self.extra)
        return data

    def __repr__(self) -> str:
        return f"CookedStep({self.id!r}, needs={self.needs!r})"


class _Compiled:
    """A step with its texts compiled (see substitute.Text), made once per formula.

    What does not depend on the target (`{target...}`) is worked out once per set of var
    values and remembered (`memo`), keyed by the identity of the values dict: the binder
    hands out one dict per distinct set of values, and each memo entry keeps its dict alive.
    """

    __slots__ = ("step", "key", "needs", "id", "title", "description", "acceptance", "condition",
                 "expand", "expand_vars", "var_texts", "extra", "is_end", "memo", "fixed")

    def __init__(self, step: Step, is_end: bool):
        self.step = step
        self.key = step.id
        self.needs = tuple(step.needs)
        self.id = Text(step.id)
        self.title = Text(step.title)
        self.description = Text(step.description)
        self.acceptance = Text(step.acceptance)
        self.condition = Condition(step.condition) if step.condition else None
        self.expand = step.expand
        self.expand_vars = VarTable(step.expand_vars)
        self.var_texts = [Text(v) for v in step.expand_vars.values()]
        self.extra = [(k, Text(v) if isinstance(v, str) else v) for k, v in step.extra.items()]
        self.is_end = is_end        # no other step of its list needs it
        self.memo: dict[int, tuple] = {}
        # Everything but the id is target-free: then it can be remembered per set of values.
        self.fixed = not (
            (self.condition is not None and self.condition.uses_target) or self.title.uses_target
            or self.description.uses_target or self.acceptance.uses_target or self.expand_vars.uses_target
            or any(isinstance(t, Text) and t.uses_target for _, t in self.extra)
        )

    def parts(self, values: Mapping[str, str], target: tuple[str, str, str] | None,
              binder: _VarBinder | None) -> tuple:
        """(values, keep, title, description, acceptance, extra, sub_values) for these values."""
        if self.fixed:
            hit = self.memo.get(id(values))
            if hit is not None and hit[0] is values:
                return hit
        keep = self.condition is None or self.condition(values, target)
        title = description = acceptance = extra = sub_values = None
        if keep:
            title = self.title(values, target)
            description = self.description(values, target)
            if self.expand is None:
                acceptance = self.acceptance(values, target)
                extra = {k: (t(values, target) if isinstance(t, Text) else t) for k, t in self.extra} \
                    if self.extra else {}
            else:
                if binder is None:
                    raise FormulaError(f"step {self.key!r} expands {self.expand!r} without its variables' binder")
                sub_values = binder(values, self.expand_vars(values, target))
        out = (values, keep, title, description, acceptance, extra, sub_values)
        if self.fixed:
            if len(self.memo) > 4096:
                self.memo.clear()
            self.memo[id(values)] = out
        return out


class _Level:
    """One list of steps (a workflow's steps or an expansion's template), compiled and ordered."""

    def __init__(self, formula: Formula, steps: list[Step]):
        self.formula = formula
        needed = {n for s in steps for n in s.needs}
        self.steps = [_Compiled(s, s.id not in needed) for s in topo_order(steps)]
        self.single_end = sum(1 for c in self.steps if c.is_end) == 1
        self.uses_target_text = any(
            t.uses_target_text for c in self.steps
            for t in (c.id, c.title, c.description, c.acceptance, *c.var_texts)
        )


class _VarBinder:
    """`bind_vars` for an expansion called many times: defaults, required vars, patterns."""

    def __init__(self, formula: Formula):
        self.formula = formula
        self.defaults = {n: v.default for n, v in formula.vars.items() if v.default is not None}
        self.checked = [(n, re.compile(v.pattern) if v.pattern else None, v.enum)
                        for n, v in formula.vars.items()]
        self.passed: set[tuple[str, str]] = set()   # (name, value) pairs already found acceptable
        self.interned: dict[tuple, dict[str, str]] = {}   # equal values -> one dict object

    def __call__(self, values: Mapping[str, str], updates: dict[str, str]) -> dict[str, str]:
        """The expansion's values; equal inputs give the same dict object (see _Compiled.memo)."""
        merged = {**self.defaults, **values, **updates}
        key = tuple(merged.items())
        hit = self.interned.get(key)
        if hit is not None:
            return hit
        out = self._bind(values, updates)
        if len(self.interned) > 4096:
            self.interned.clear()
        self.interned[key] = out
        return out

    def _bind(self, values: Mapping[str, str], updates: dict[str, str]) -> dict[str, str]:
        out = {**self.defaults, **values, **updates}
        passed = self.passed
        for name, pattern, enum in self.checked:
            value = out.get(name)
            if (name, value) in passed:
                continue
            if value is None or (pattern is not None and not pattern.search(value)) or (
                enum is not None and value not in enum
            ):
                return bind_vars(self.formula, {**values, **updates})   # raises, naming the problem
            passed.add((name, value))
        return out


class Expander:
    def __init__(self, library: FormulaLibrary, max_steps: int = MAX_STEPS, max_depth: int = MAX_DEPTH):
        self.library = library
        self.max_steps = max_steps
        self.max_depth = max_depth
        self._templates: dict[str, tuple[_Level, _VarBinder]] = {}

    def _template(self, name: str, where: str, step_id: str) -> tuple[_Level, _VarBinder]:
        if name not in self._templates:
            if not self.library.has(name):
                raise FormulaError(f"{where}: step {step_id!r}: expands with unknown formula {name!r}")
            formula = self.library.get(name)
            if not formula.template:
                raise FormulaError(f"{where}: step {step_id!r}: {name!r} has no [[template]] to expand with")
            self._templates[name] = (_Level(formula, formula.template), _VarBinder(formula))
        return self._templates[name]

    def steps(self, formula: Formula, values: dict[str, str]) -> Iterator[CookedStep]:
        """Every step of `formula` (already resolved and validated), in an order that respects needs."""
        seen: set[str] = set()
        add = seen.add
        limit = self.max_steps
        for step in self._level(_Level(formula, formula.steps), values, None, (), 0):
            if step.id in seen:
                raise FormulaError(f"{formula.where}: step {step.id!r}: two steps get this id once expanded")
            add(step.id)
            if len(seen) > limit:
                raise FormulaError(f"{formula.where}: expands to more than {limit:,} steps; refusing to go on")
            yield step

    def _level(self, level: _Level, values: dict[str, str], target: tuple[str, str, str] | None,
               inherited: tuple, depth: int) -> Generator[CookedStep, None, tuple]:
        """Yields the cooked steps of one list of steps; returns the ids that stand for its end.

        Lists of ids (`needs`, ends) are shared between steps and never changed once made.
        """
        formula = level.formula
        if depth > self.max_depth:
            raise FormulaError(
                f"{formula.where}: expansion nested deeper than {self.max_depth} levels"
                f" (at {target[0] if target is not None else formula.name!r}; a recursion without a stopping"
                " condition?)"
            )
        resolved: dict[str, tuple] = {}
        ends: tuple = ()
        template = self._template
        for c in level.steps:
            try:
                needs = c.needs
                if not needs:
                    final = inherited
                elif len(needs) == 1:
                    final = resolved[needs[0]]
                else:
                    merged: list[str] = []
                    for n in needs:
                        for x in resolved[n]:
                            if x not in merged:
                                merged.append(x)
                    final = tuple(merged)
                if c.expand is not None:
                    sub_level, binder = template(c.expand, formula.where, c.key)
                else:
                    binder = None
                _, keep, title, description, acceptance, extra, sub_values = c.parts(values, target, binder)
                if not keep:
                    out = final
                elif binder is not None:
                    sid = c.id(values, target)
                    sub_target = (sid, title, description)
                    out = yield from self._level(sub_level, sub_values, sub_target, final, depth + 1)
                else:
                    sid = c.id(values, target)
                    yield CookedStep(sid, title, description, acceptance, final, c.step.type, c.step.priority,
                                     formula.name, dict(extra) if extra else {})
                    out = (sid,)
            except SubstitutionError as exc:
                raise FormulaError(f"{formula.where}: step {c.key!r}: {exc}") from None
            resolved[c.key] = out
            if c.is_end:
                if level.single_end or not ends:
                    ends = out
                else:
                    ends = ends + tuple(x for x in out if x not in ends)
        return ends
