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
from typing import Iterator

from gastown_tui.meow.errors import FormulaError
from gastown_tui.meow.model import Formula, Step
from gastown_tui.meow.search import FormulaLibrary
from gastown_tui.meow.substitute import Condition, SubstitutionError, Text
from gastown_tui.meow.validate import bind_vars, topo_order

MAX_DEPTH = 64           # nested expansions
MAX_STEPS = 1 << 22      # 4,194,304 steps: far beyond any real workflow, and stops a runaway recursion


class CookedStep:
    """One step of a proto, text substituted, `needs` naming other cooked step ids."""

    __slots__ = ("id", "title", "description", "acceptance", "needs", "type", "priority", "formula", "extra")

    def __init__(self, id, title, description, acceptance, needs, type, priority, formula, extra):
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
        data = {"id": self.id, "title": self.title}
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


TEXT_EXTRAS = ("notes",)


class _Compiled:
    """A step with its texts compiled (see substitute.Text), made once per formula."""

    __slots__ = ("step", "id", "title", "description", "acceptance", "condition", "expand_vars", "extra")

    def __init__(self, step: Step):
        self.step = step
        self.id = Text(step.id)
        self.title = Text(step.title)
        self.description = Text(step.description)
        self.acceptance = Text(step.acceptance)
        self.condition = Condition(step.condition) if step.condition else None
        self.expand_vars = [(k, Text(v)) for k, v in step.expand_vars.items()]
        self.extra = [(k, Text(v) if isinstance(v, str) else v) for k, v in step.extra.items()]


class _Level:
    """One list of steps (a workflow's steps or an expansion's template), compiled and ordered."""

    def __init__(self, formula: Formula, steps: list[Step]):
        self.formula = formula
        self.steps = [_Compiled(s) for s in topo_order(steps)]
        self.needed = {n for s in steps for n in s.needs}
        self.uses_target_text = any(
            t.uses_target_text for c in self.steps
            for t in (c.id, c.title, c.description, c.acceptance, *(v for _, v in c.expand_vars))
        )


class _VarBinder:
    """`bind_vars` for an expansion called many times: defaults, required vars, patterns."""

    def __init__(self, formula: Formula):
        self.formula = formula
        self.defaults = {n: v.default for n, v in formula.vars.items() if v.default is not None}
        self.checked = [(n, re.compile(v.pattern) if v.pattern else None, v.enum)
                        for n, v in formula.vars.items()]
        self.passed: set[tuple[str, str]] = set()   # (name, value) pairs already found acceptable

    def __call__(self, given: dict[str, str]) -> dict[str, str]:
        values = dict(self.defaults)
        values.update(given)
        passed = self.passed
        for name, pattern, enum in self.checked:
            value = values.get(name)
            if (name, value) in passed:
                continue
            if value is None or (pattern is not None and not pattern.search(value)) or (
                enum is not None and value not in enum
            ):
                return bind_vars(self.formula, given)   # raises, naming the problem
            passed.add((name, value))
        return values


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
        count = 0
        for step in self._level(_Level(formula, formula.steps), values, None, [], 0):
            if step.id in seen:
                raise FormulaError(f"{formula.where}: step {step.id!r}: two steps get this id once expanded")
            seen.add(step.id)
            count += 1
            if count > self.max_steps:
                raise FormulaError(
                    f"{formula.where}: expands to more than {self.max_steps:,} steps; refusing to go on"
                )
            yield step

    def _level(self, level: _Level, values, target, inherited, depth):
        """Yields the cooked steps of one list of steps; returns the ids that stand for its end."""
        formula = level.formula
        if depth > self.max_depth:
            raise FormulaError(
                f"{formula.where}: expansion nested deeper than {self.max_depth} levels"
                f" (at {target[0]!r}; a recursion without a stopping condition?)"
            )
        resolved: dict[str, list[str]] = {}
        needed = level.needed
        ends: list[str] = []
        for c in level.steps:
            s = c.step
            try:
                if s.needs:
                    final: list[str] = []
                    for n in s.needs:
                        for x in resolved[n]:
                            if x not in final:
                                final.append(x)
                else:
                    final = list(inherited)
                if c.condition is not None and not c.condition(values, target):
                    resolved[s.id] = final
                elif s.expand:
                    sid = c.id(values, target)
                    sub_level, binder = self._template(s.expand, formula.where, s.id)
                    if sub_level.uses_target_text:
                        sub_target = (sid, c.title(values, target), c.description(values, target))
                    else:
                        sub_target = (sid, "", "")
                    given = dict(values)
                    for k, t in c.expand_vars:
                        given[k] = t(values, target)
                    resolved[s.id] = yield from self._level(
                        sub_level, binder(given), sub_target, final, depth + 1
                    )
                else:
                    sid = c.id(values, target)
                    extra = {k: (t(values, target) if isinstance(t, Text) else t) for k, t in c.extra} if c.extra else {}
                    yield CookedStep(
                        sid, c.title(values, target), c.description(values, target),
                        c.acceptance(values, target), final, s.type, s.priority, formula.name, extra,
                    )
                    resolved[s.id] = [sid]
            except SubstitutionError as exc:
                raise FormulaError(f"{formula.where}: step {s.id!r}: {exc}") from None
            if s.id not in needed:
                for x in resolved[s.id]:
                    if x not in ends:
                        ends.append(x)
        return ends
