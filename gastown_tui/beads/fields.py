"""Gas Town's `key: value` lines inside bead descriptions.

Agent, merge-request, rig and hooked beads carry structured state as lines like
`hook_bead: gt-pp2t` in the description (reference/beads-format.md §1.4).
Values are strings; `null` reads as None. Other text is left alone.
"""
from __future__ import annotations

import re

_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):(?: (.*))?$")


def parse_fields(text: str | None) -> dict[str, str | None]:
    """Every `key: value` line of the text, in order (`null` or empty -> None)."""
    out: dict[str, str | None] = {}
    for line in (text or "").splitlines():
        m = _LINE.match(line.rstrip())
        if m:
            value = (m.group(2) or "").strip()
            out[m.group(1)] = None if value in ("", "null") else value
    return out


def _fmt(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if "\n" in text:
        raise ValueError(f"a description field value cannot span lines: {text!r}")
    return text


def set_fields(text: str | None, **values: object) -> str:
    """The text with each `key: value` line replaced in place, or appended when absent.

    A value of None writes `key: null` (Gas Town's spelling for an empty field).
    """
    lines = (text or "").splitlines()
    pending = dict(values)
    for i, line in enumerate(lines):
        m = _LINE.match(line.rstrip())
        if m and m.group(1) in pending:
            key = m.group(1)
            lines[i] = f"{key}: {_fmt(pending.pop(key))}"
    if pending:
        if lines and lines[-1].strip() and not _LINE.match(lines[-1].rstrip()):
            lines.append("")
        lines += [f"{k}: {_fmt(v)}" for k, v in pending.items()]
    return "\n".join(lines)
