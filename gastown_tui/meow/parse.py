"""Reads one `*.formula.toml` (or legacy `*.formula.json`) file into a `Formula`.

Only the shape is checked here (tables where tables belong, strings where
strings belong); references between steps and formulas are checked by
`validate`. Every problem is reported with the file and the step it is in.
"""
from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from gastown_tui.meow.errors import FormulaError, where
from gastown_tui.meow.model import FORMULA_TYPES, Expand, Formula, Step, Var
from gastown_tui.meow.ralph import parse_ralph

STEP_KEYS = {
    "id", "title", "description", "acceptance", "needs", "depends_on", "type",
    "priority", "condition", "expand", "expand_vars",
}
VAR_KEYS = {"description", "required", "default", "pattern", "enum"}


def read_formula_file(path: Path) -> Formula:
    """Parses `path`; raises FormulaError naming the file (and the TOML line) on bad input."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FormulaError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise FormulaError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_formula_text(text, path)


def parse_formula_text(text: str, path: Path | None = None) -> Formula:
    try:
        if path is not None and path.name.endswith(".json"):
            data = json.loads(text)
        else:
            data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormulaError(f"{where(path)}: invalid TOML: {exc}") from None
    except json.JSONDecodeError as exc:
        raise FormulaError(f"{where(path)}: invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise FormulaError(f"{where(path)}: the top level must be a table")
    return formula_from_dict(data, path)


def formula_from_dict(data: dict[str, Any], path: Path | None = None) -> Formula:
    problems: list[str] = []
    loc = where(path)
    name = data.get("formula")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{loc}: missing `formula = \"NAME\"` (the formula's name)")
        name = _name_from_path(path)
    ftype = data.get("type")
    if ftype is None:
        ftype = _infer_type(data)
    elif ftype not in FORMULA_TYPES:
        problems.append(f"{loc}: type {ftype!r} is not one of {', '.join(FORMULA_TYPES)}")
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.append(f"{loc}: description must be a string")
        description = ""
    extends = data.get("extends", [])
    if isinstance(extends, str):
        extends = [extends]
    if not _is_str_list(extends):
        problems.append(f"{loc}: extends must be a list of formula names")
        extends = []
    pour = data.get("pour")
    if pour is not None and not isinstance(pour, bool):
        problems.append(f"{loc}: pour must be true or false")
        pour = None

    formula = Formula(
        name=name, path=path, type=ftype, description=description,
        version=data.get("version"), extends=list(extends), pour=pour, raw=data,
    )
    formula.vars = _parse_vars(data.get("vars", {}), loc, problems, kind="var")
    if ftype == "convoy" and isinstance(data.get("inputs"), dict):
        for var_name, var in _parse_vars(data["inputs"], loc, problems, kind="input").items():
            formula.vars.setdefault(var_name, var)
    formula.steps = _parse_steps(data.get("steps", []), loc, problems, "steps")
    formula.template = _parse_steps(data.get("template", []), loc, problems, "template")
    if ftype == "convoy" and not formula.steps:
        formula.steps = _convoy_steps(data, loc, problems)
    formula.expands = _parse_compose(data.get("compose"), loc, problems)
    if problems:
        raise FormulaError(problems)
    return formula


def _name_from_path(path: Path | None) -> str:
    if path is None:
        return "<unnamed>"
    return path.name.split(".formula.")[0]


def _infer_type(data: dict[str, Any]) -> str:
    if data.get("template"):
        return "expansion"
    if data.get("legs"):
        return "convoy"
    if data.get("aspects") or data.get("advice"):
        return "aspect"
    return "workflow"


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _scalar_text(value: Any) -> str | None:
    """TOML scalars usable as var text (numbers and booleans become their TOML spelling)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _scalar_texts(items: list) -> list[str] | None:
    """Every item as var text, or None when one is not a scalar."""
    out = [_scalar_text(v) for v in items]
    texts = [t for t in out if t is not None]
    return texts if len(texts) == len(out) else None


def _scalar_table(table: Any) -> dict[str, str] | None:
    """A TOML table of scalars as var texts, or None when it is not a table or a value is not a scalar."""
    if not isinstance(table, dict):
        return None
    out = {k: _scalar_text(v) for k, v in table.items()}
    texts = {k: t for k, t in out.items() if t is not None}
    return texts if len(texts) == len(out) else None


def _parse_vars(table: Any, loc: str, problems: list[str], kind: str) -> dict[str, Var]:
    out: dict[str, Var] = {}
    if not isinstance(table, dict):
        problems.append(f"{loc}: [{kind}s] must be a table")
        return out
    for var_name, spec in table.items():
        if not isinstance(spec, dict):
            default = _scalar_text(spec)
            if default is None:
                problems.append(f"{loc}: {kind} {var_name!r}: must be a table or a default value")
                continue
            out[var_name] = Var(name=var_name, default=default)
            continue
        var = Var(name=var_name, extra={k: v for k, v in spec.items() if k not in VAR_KEYS})
        var.description = spec.get("description", "") if isinstance(spec.get("description", ""), str) else ""
        required = spec.get("required", False)
        if not isinstance(required, bool):
            problems.append(f"{loc}: {kind} {var_name!r}: required must be true or false")
        var.required = required is True
        if "default" in spec:
            var.default = _scalar_text(spec["default"])
            if var.default is None:
                problems.append(f"{loc}: {kind} {var_name!r}: default must be a string, number or boolean")
        pattern = spec.get("pattern")
        if pattern is not None:
            import re

            if not isinstance(pattern, str):
                problems.append(f"{loc}: {kind} {var_name!r}: pattern must be a string")
            else:
                try:
                    re.compile(pattern)
                    var.pattern = pattern
                except re.error as exc:
                    problems.append(f"{loc}: {kind} {var_name!r}: bad pattern {pattern!r}: {exc}")
        enum = spec.get("enum")
        if enum is not None:
            values = _scalar_texts(enum) if isinstance(enum, list) else None
            if values is None:
                problems.append(f"{loc}: {kind} {var_name!r}: enum must be a list of values")
            else:
                var.enum = values
        out[var_name] = var
    return out


def _parse_steps(items: Any, loc: str, problems: list[str], section: str) -> list[Step]:
    if not isinstance(items, list) or not all(isinstance(s, dict) for s in items):
        problems.append(f"{loc}: [[{section}]] must be an array of tables")
        return []
    steps: list[Step] = []
    for index, raw in enumerate(items):
        step_id = raw.get("id")
        label = step_id if isinstance(step_id, str) else f"{section}[{index}]"
        here = f"{loc}: step {label!r}"
        if not isinstance(step_id, str) or not step_id.strip():
            problems.append(f"{loc}: {section}[{index}]: missing id")
            continue
        step = Step(id=step_id, index=index, extra={k: v for k, v in raw.items() if k not in STEP_KEYS})
        for key in ("title", "description", "acceptance", "type", "condition", "expand"):
            value = raw.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                problems.append(f"{here}: {key} must be a string")
                continue
            setattr(step, key, value)
        if not step.title:
            step.title = step_id
        needs: list[str] = []
        for key in ("needs", "depends_on"):
            value = raw.get(key, [])
            if isinstance(value, str):
                value = [value]
            if not _is_str_list(value):
                problems.append(f"{here}: {key} must be a list of step ids")
                continue
            needs += [n for n in value if n not in needs]
        step.needs = needs
        priority = raw.get("priority")
        if priority is not None:
            if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 4:
                problems.append(f"{here}: priority must be an integer 0-4")
            else:
                step.priority = priority
        expand_vars = _scalar_table(raw.get("expand_vars", {}))
        if expand_vars is None:
            problems.append(f"{here}: expand_vars must be a table of values")
        else:
            step.expand_vars = expand_vars
        if "ralph" in raw:      # a Ralph loop: kept (checked, with defaults filled in) among the step's extras
            spec = parse_ralph(raw["ralph"], here, problems)
            step.extra["ralph"] = spec.to_json() if spec is not None else None
        steps.append(step)
    return steps


def _convoy_steps(data: dict[str, Any], loc: str, problems: list[str]) -> list[Step]:
    """A convoy's legs as parallel steps, and its synthesis as a step needing them."""
    legs = data.get("legs", [])
    steps = _parse_steps(legs, loc, problems, "legs")
    synthesis = data.get("synthesis")
    if isinstance(synthesis, dict):
        raw = dict(synthesis)
        raw.setdefault("id", "synthesis")
        raw.setdefault("title", "Synthesis")
        raw.setdefault("depends_on", [s.id for s in steps])
        more = _parse_steps([raw], loc, problems, "synthesis")
        for step in more:
            step.index = len(steps)
        steps += more
    return steps


def _parse_compose(compose: Any, loc: str, problems: list[str]) -> list[Expand]:
    if compose is None:
        return []
    if not isinstance(compose, dict):
        problems.append(f"{loc}: [compose] must be a table")
        return []
    items = compose.get("expand", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        problems.append(f"{loc}: [[compose.expand]] must be an array of tables")
        return []
    out: list[Expand] = []
    for index, item in enumerate(items):
        target, with_ = item.get("target"), item.get("with")
        if not isinstance(target, str) or not isinstance(with_, str):
            problems.append(f"{loc}: compose.expand[{index}]: needs `target = \"STEP\"` and `with = \"FORMULA\"`")
            continue
        exp_vars = _scalar_table(item.get("vars", {}))
        if exp_vars is None:
            problems.append(f"{loc}: compose.expand[{index}]: vars must be a table of values")
            exp_vars = {}
        out.append(Expand(target=target, with_=with_, vars=exp_vars))
    return out
