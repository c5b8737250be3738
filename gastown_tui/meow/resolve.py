"""Turns a parsed formula into the one that is cooked: `extends` and `[compose]` applied.

- `extends = ["parent", ...]`: the parents' steps come first (in order), then
  this formula's; a step with a parent's id replaces that step in place. Vars
  are merged the same way (this formula's declaration wins).
- `[[compose.expand]] target = STEP, with = EXPANSION`: the target step is
  marked to be replaced by the expansion's `[[template]]` when cooked (see
  `expand.py`): the template's first steps take over the target's `needs`, and
  steps that needed the target need the template's last steps.
"""
from __future__ import annotations

import copy
from dataclasses import replace

from gastown_tui.meow.errors import FormulaError
from gastown_tui.meow.model import Formula, Step
from gastown_tui.meow.search import FormulaLibrary
from gastown_tui.errors import nearest


def resolve(formula: Formula, library: FormulaLibrary, _stack: tuple[str, ...] = ()) -> Formula:
    """A copy of `formula` with extends and compose applied (raises FormulaError naming the file)."""
    if formula.name in _stack:
        chain = " -> ".join(_stack + (formula.name,))
        raise FormulaError(f"{formula.where}: extends cycle: {chain}")
    problems: list[str] = []
    steps: list[Step] = []
    variables = {}
    description = formula.description
    for parent_name in formula.extends:
        if not library.has(parent_name):
            near = library.index()

            hint = nearest(parent_name, near)
            problems.append(
                f"{formula.where}: extends unknown formula {parent_name!r}"
                + (f" (nearest: {', '.join(hint)})" if hint else "")
            )
            continue
        parent = resolve(library.get(parent_name), library, _stack + (formula.name,))
        steps = _merge_steps(steps, parent.steps)
        variables.update(parent.vars)
        description = description or parent.description
    steps = _merge_steps(steps, formula.steps)
    variables.update(formula.vars)

    by_id = {s.id: i for i, s in enumerate(steps)}
    for exp in formula.expands:
        if exp.target not in by_id:
            problems.append(
                f"{formula.where}: compose.expand target {exp.target!r} is not a step"
                f" (steps: {', '.join(s.id for s in steps) or 'none'})"
            )
            continue
        if not library.has(exp.with_):
            hint = nearest(exp.with_, library.index())
            problems.append(
                f"{formula.where}: step {exp.target!r}: compose.expand with unknown formula {exp.with_!r}"
                + (f" (nearest: {', '.join(hint)})" if hint else "")
            )
            continue
        i = by_id[exp.target]
        steps[i] = replace(steps[i], expand=exp.with_, expand_vars=dict(exp.vars))
    if problems:
        raise FormulaError(problems)

    out = copy.copy(formula)
    out.steps = [replace(s, index=i) for i, s in enumerate(steps)]
    out.vars = variables
    out.description = description
    out.extends = []
    out.expands = []
    return out


def _merge_steps(base: list[Step], more: list[Step]) -> list[Step]:
    out = list(base)
    positions = {s.id: i for i, s in enumerate(out)}
    for step in more:
        if step.id in positions:
            out[positions[step.id]] = step
        else:
            positions[step.id] = len(out)
            out.append(step)
    return out
