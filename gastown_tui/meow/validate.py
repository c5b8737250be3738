"""Checks a formula before it is cooked; every problem names the file and the step.

Checked: duplicate step ids, `needs` naming no step, cycles among steps, an
`extends` or `compose.expand` naming no formula, an `expand` naming a formula
that is not an expansion (or has no `[[template]]`), a workflow with no steps.
Vars (required, pattern, enum) are checked when values are bound (`bind_vars`).
"""
from __future__ import annotations

import re

from gastown_tui.errors import nearest
from gastown_tui.meow.errors import FormulaError
from gastown_tui.meow.model import Formula, Step
from gastown_tui.meow.resolve import resolve
from gastown_tui.meow.search import FormulaLibrary


def check_steps(steps: list[Step], loc: str, section: str = "steps") -> list[str]:
    """Duplicate ids, unknown needs and cycles among one list of steps."""
    problems: list[str] = []
    seen: set[str] = set()
    for step in steps:
        if step.id in seen:
            problems.append(f"{loc}: step {step.id!r}: duplicate step id in [[{section}]]")
        seen.add(step.id)
    for step in steps:
        for need in step.needs:
            if need == step.id:
                problems.append(f"{loc}: step {step.id!r}: needs itself")
            elif need not in seen:
                hint = nearest(need, seen)
                problems.append(
                    f"{loc}: step {step.id!r}: needs unknown step {need!r}"
                    + (f" (nearest: {', '.join(hint)})" if hint else "")
                )
    if not problems:
        cycle = find_cycle(steps)
        if cycle:
            problems.append(f"{loc}: step {cycle[0]!r}: needs cycle: {' -> '.join(cycle)}")
    return problems


def find_cycle(steps: list[Step]) -> list[str] | None:
    """A cycle among `needs` as [a, b, ..., a], or None."""
    needs = {s.id: [n for n in s.needs if n != s.id] for s in steps}
    state: dict[str, int] = {}   # 1 = on the current path, 2 = finished
    for start in needs:
        if state.get(start):
            continue
        path: list[str] = []
        stack = [(start, iter(needs.get(start, ())))]
        state[start] = 1
        path.append(start)
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if not state.get(nxt) and nxt in needs:
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(needs[nxt])))
    return None


def topo_order(steps: list[Step]) -> list[Step]:
    """Steps ordered so each comes after the steps it needs (file order otherwise kept)."""
    by_id = {s.id: s for s in steps}
    done: set[str] = set()
    out: list[Step] = []
    remaining = list(steps)
    while remaining:
        progressed = False
        rest = []
        for s in remaining:
            if all(n in done or n not in by_id for n in s.needs):
                out.append(s)
                done.add(s.id)
                progressed = True
            else:
                rest.append(s)
        if not progressed:   # a cycle; validation reports it
            return out + rest
        remaining = rest
    return out


def validate(formula: Formula, library: FormulaLibrary) -> Formula:
    """The resolved formula (extends and compose applied), or FormulaError listing every problem."""
    problems: list[str] = []
    loc = formula.where
    seen_ids: set[str] = set()
    for step in formula.steps:
        if step.id in seen_ids:
            problems.append(f"{loc}: step {step.id!r}: duplicate step id in [[steps]]")
        seen_ids.add(step.id)
    if formula.template:
        problems += check_steps(formula.template, loc, "template")
    if formula.type == "expansion" and not formula.template:
        problems.append(f"{loc}: an expansion formula needs at least one [[template]]")
    try:
        resolved = resolve(formula, library)
    except FormulaError as exc:
        raise FormulaError(problems + exc.problems) from None
    if not problems:
        problems += check_steps(resolved.steps, loc)
    if resolved.type == "workflow" and not resolved.steps:
        problems.append(f"{loc}: a workflow formula needs at least one [[steps]]")
    problems += _check_expansions(resolved, library, set())
    if problems:
        raise FormulaError(problems)
    return resolved


def _check_expansions(formula: Formula, library: FormulaLibrary, visited: set[str]) -> list[str]:
    """Every `expand` names an expansion whose template is sound (recursion is allowed)."""
    problems: list[str] = []
    for step in list(formula.steps) + list(formula.template):
        if not step.expand:
            continue
        name = step.expand
        if not library.has(name):
            hint = nearest(name, library.index())
            problems.append(
                f"{formula.where}: step {step.id!r}: expands with unknown formula {name!r}"
                + (f" (nearest: {', '.join(hint)})" if hint else "")
            )
            continue
        if name in visited:
            continue
        visited.add(name)
        try:
            expansion = library.get(name)
        except FormulaError as exc:
            problems += exc.problems
            continue
        if not expansion.template:
            problems.append(
                f"{formula.where}: step {step.id!r}: {name!r} ({expansion.where}) has no [[template]] to expand with"
            )
            continue
        problems += check_steps(expansion.template, expansion.where, "template")
        problems += _check_expansions(expansion, library, visited)
    return problems


def check_value(formula: Formula, name: str, value: str) -> str | None:
    """Why `value` is not acceptable for var `name`, or None."""
    var = formula.vars.get(name)
    if var is None:
        return None
    if var.pattern is not None and not re.search(var.pattern, value):
        return f"{formula.where}: var {name!r} = {value!r} does not match pattern {var.pattern}"
    if var.enum is not None and value not in var.enum:
        return f"{formula.where}: var {name!r} = {value!r} is not one of {', '.join(var.enum)}"
    return None


def bind_vars(formula: Formula, given: dict[str, str]) -> dict[str, str]:
    """Defaults overridden by `given`; FormulaError for a missing required var or a bad value."""
    values = {name: var.default for name, var in formula.vars.items() if var.default is not None}
    values.update({k: str(v) for k, v in given.items()})
    problems = []
    for name, var in formula.vars.items():
        if name not in values:
            if var.required:
                what = f" ({var.description})" if var.description else ""
                problems.append(f"{formula.where}: missing required var {name!r}{what}; pass --var {name}=VALUE")
            continue
        bad = check_value(formula, name, values[name])
        if bad:
            problems.append(bad)
    if problems:
        raise FormulaError(problems)
    return values
