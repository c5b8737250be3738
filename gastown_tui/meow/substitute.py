"""Text substitution in formulas.

- `{{name}}` is replaced by the value of var `name`. A small integer arithmetic
  form, `{{name - 1}}`, `{{name + 2}}`, `{{name * 2}}`, lets an expansion pass
  a changed count to itself (how `towers-of-hanoi` recurses).
  Anything else between double braces (Go templates in convoy prompts such as
  `{{.leg.id}}` or `{{if ...}}`) and names with no value are left as written.
- `{target}`, `{target.title}`, `{target.description}` in an expansion's
  `[[template]]` are the id, title and description of the step it replaces.
- A `condition` is substituted first, then read as one of: `X` (true unless
  empty, `false`, `0` or `no`), `!X`, or `A OP B` with OP one of
  `== != < <= > >=` (numbers compare as numbers).
"""
from __future__ import annotations

import operator
import re
from typing import Any, Callable, Mapping

VAR_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*(?:([-+*])\s*(\d+)\s*)?\}\}")
TARGET_RE = re.compile(r"(?<!\{)\{target(\.title|\.description)?\}(?!\})")
CONDITION_RE = re.compile(r"^\s*(.*?)\s*(==|!=|<=|>=|<|>)\s*(.*?)\s*$")
FALSE_WORDS = {"", "false", "0", "no"}


class SubstitutionError(ValueError):
    """Arithmetic on a var whose value is not an integer, or a malformed condition."""


def render(text: str, values: Mapping[str, str]) -> str:
    """`{{var}}` substitution; unknown names are left untouched."""
    if "{{" not in text:
        return text

    def replace(match: re.Match) -> str:
        name, op, operand = match.group(1), match.group(2), match.group(3)
        if name not in values:
            return match.group(0)
        value = values[name]
        if op is None:
            return value
        try:
            number = int(value)
        except ValueError:
            raise SubstitutionError(
                f"{{{{{name} {op} {operand}}}}} needs an integer, but {name} = {value!r}"
            ) from None
        right = int(operand)
        return str(number - right if op == "-" else number + right if op == "+" else number * right)

    return VAR_RE.sub(replace, text)


def render_target(text: str, target_id: str, title: str, description: str) -> str:
    """`{target}` / `{target.title}` / `{target.description}` substitution."""
    if "{target" not in text:
        return text
    parts = {None: target_id, ".title": title, ".description": description}
    return TARGET_RE.sub(lambda m: parts[m.group(1)], text)


def var_names(text: str) -> list[str]:
    """The var names a text refers to with `{{name}}` (or `{{name - 1}}`)."""
    return [m.group(1) for m in VAR_RE.finditer(text)]


def _truthy(value: str) -> bool:
    return value.strip().lower() not in FALSE_WORDS


def _number(value: str) -> int | float | None:
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return None


def condition_holds(condition: str, values: Mapping[str, str]) -> bool:
    """Evaluates a step's `condition` after substituting vars."""
    text = render(condition, values).strip()
    if "{{" in text:
        raise SubstitutionError(f"condition {condition!r} refers to a var with no value")
    match = CONDITION_RE.match(text)
    if not match:
        if text.startswith("!"):
            return not _truthy(text[1:])
        return _truthy(text)
    return compare(match.group(1), match.group(2), match.group(3), condition)


_OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
        ">": operator.gt, ">=": operator.ge}


def compare(left: str, op: str, right: str, condition: str) -> bool:
    if left.isdigit() and right.isdigit():
        return _OPS[op](int(left), int(right))
    left, right = left.strip().strip("'\""), right.strip().strip("'\"")
    a, b = _number(left), _number(right)
    if a is None or b is None:
        if op not in ("==", "!="):
            raise SubstitutionError(f"condition {condition!r}: {op} needs numbers, got {left!r} and {right!r}")
        return _OPS[op](left, right)
    return _OPS[op](a, b)


PART_RE = re.compile(VAR_RE.pattern + "|" + TARGET_RE.pattern)


def _arith(values: Mapping[str, str], name: str, op: str, right: int, source: str) -> str:
    value = values.get(name)
    if value is None:
        return source
    try:
        number = int(value)
    except ValueError:
        raise SubstitutionError(f"{source} needs an integer, but {name} = {value!r}") from None
    return str(number - right if op == "-" else number + right if op == "+" else number * right)


def compile_expr(expr: str) -> Callable[..., Any]:
    """`lambda V, T: <expr>`; expressions are built only from repr()s of formula text (see Text)."""
    return eval("lambda V, T: " + expr, {"_arith": _arith, "_compare": _compare_fast})


def _compare_fast(left: str, op: str, right: str, source: str) -> bool:
    if "{{" in left or "{{" in right:
        raise SubstitutionError(f"condition {source!r} refers to a var with no value")
    if left.isdigit() and right.isdigit():
        return _OPS[op](int(left), int(right))
    return compare(left, op, right, source)


class VarTable:
    """A table of texts (a step's `expand_vars`) rendered into a dict by one compiled call."""

    __slots__ = ("_render", "uses_target")

    def __init__(self, items: dict[str, str]):
        texts = {k: Text(v) for k, v in items.items()}
        self.uses_target = any(t.uses_target for t in texts.values())
        body = ", ".join(f"{k!r}: {t.expr}" for k, t in texts.items())
        self._render = compile_expr("{" + body + "}")

    def __call__(self, values: Mapping[str, str], target: tuple[str, str, str] | None = None) -> dict[str, str]:
        return self._render(values, target)


class Text:
    """A text compiled once and rendered many times (used when cooking).

    Renders like `render(render_target(text, ...), values)`, except that the
    target's title and description are inserted as they are (they were already
    rendered where the target step was). Compiled to one Python expression, so
    rendering a step costs well under a microsecond.
    """

    __slots__ = ("source", "constant", "uses_target", "uses_target_text", "_render", "expr")
    constant: str | None                    # the text itself when it has no placeholder
    _render: Callable[..., str] | None      # otherwise its compiled expression

    def __init__(self, source: str):
        self.source = source
        self.uses_target = False        # refers to any {target...} placeholder
        self.uses_target_text = False   # refers to {target.title} or {target.description}
        terms: list[str] = []
        pos = 0
        for m in PART_RE.finditer(source):
            if m.start() > pos:
                terms.append(repr(source[pos:m.start()]))
            if m.group(1) is not None:
                name, op = m.group(1), m.group(2)
                if op:
                    terms.append(f"_arith(V, {name!r}, {op!r}, {int(m.group(3))}, {m.group(0)!r})")
                else:
                    terms.append(f"V.get({name!r}, {m.group(0)!r})")
            else:
                which = {None: 0, ".title": 1, ".description": 2}[m.group(4)]
                self.uses_target_text = self.uses_target_text or which > 0
                self.uses_target = True
                terms.append(f"(T[{which}] if T is not None else {_TARGET_NAMES[which]!r})")
            pos = m.end()
        if pos < len(source):
            terms.append(repr(source[pos:]))
        self.expr = " + ".join(terms) if terms else "''"   # a Python expression of V (values) and T (target)
        if len(terms) <= 1 and (not terms or terms[0].startswith(("'", '"'))):
            self.constant = source
            self._render = None
        else:
            self.constant = None
            self._render = compile_expr(self.expr)

    def __call__(self, values: Mapping[str, str], target: tuple[str, str, str] | None = None) -> str:
        if self._render is None:
            return self.source          # a constant: `constant` is `source`
        return self._render(values, target)


_TARGET_NAMES = ("{target}", "{target.title}", "{target.description}")


class Condition:
    """A step's `condition`, compiled once."""

    __slots__ = ("source", "left", "op", "right", "negate", "_fast", "uses_target")
    left: Text
    op: str | None                  # None: a plain truth test of `left`, and `right` is None too
    right: Text | None
    _fast: Callable[..., bool] | None

    def __init__(self, source: str):
        self.source = source
        self.negate = False
        # The arithmetic inside {{ }} has no comparison operators, so the first one found splits it.
        stripped = source.strip()
        match = CONDITION_RE.match(stripped)
        if match:
            self.left, self.op, self.right = Text(match.group(1)), match.group(2), Text(match.group(3))
        else:
            if stripped.startswith("!"):
                self.negate, stripped = True, stripped[1:]
            self.left, self.op, self.right = Text(stripped), None, None
        self._fast = None
        self.uses_target = self.left.uses_target or (self.right is not None and self.right.uses_target)
        if self.op is not None and self.right is not None:
            right = self.right.constant
            if right is not None and right.strip().isdigit():
                # The usual `{{n}} > 1`: compare as integers when the left side is one, in one expression.
                self._fast = compile_expr(
                    f"(lambda a: int(a) {self.op} {int(right)} if a.isdigit() else "
                    f"_compare(a.strip(), {self.op!r}, {right.strip()!r}, {source!r}))({self.left.expr})"
                )
            else:
                self._fast = compile_expr(
                    f"_compare(({self.left.expr}).strip(), {self.op!r}, ({self.right.expr}).strip(), {source!r})"
                )

    def __call__(self, values: Mapping[str, str], target: tuple[str, str, str] | None = None) -> bool:
        if self._fast is not None:
            return self._fast(values, target)
        left = self.left(values, target).strip()
        if "{{" in left:
            raise SubstitutionError(f"condition {self.source!r} refers to a var with no value")
        if self.op is None or self.right is None:
            return _truthy(left) != self.negate
        right = self.right(values, target).strip()
        if "{{" in right:
            raise SubstitutionError(f"condition {self.source!r} refers to a var with no value")
        return compare(left, self.op, right, self.source)
