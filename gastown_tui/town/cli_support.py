"""Small helpers shared by the town's command modules (finding the town, printing JSON)."""
from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from gastown_tui.errors import UserError
from gastown_tui.town.agents import current_agent
from gastown_tui.town.layout import Town, find_town

T = TypeVar("T")


def town_here() -> Town:
    return find_town()


def actor() -> str:
    return current_agent()


def _plain(obj: object) -> object:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "to_dict"):
            return obj.to_dict()
        return dataclasses.asdict(obj)
    if hasattr(obj, "to_record"):
        return obj.to_record()
    if isinstance(obj, (list, tuple)):
        return [_plain(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if hasattr(obj, "__fspath__"):
        return str(obj)
    return obj


def print_json(obj: object) -> None:
    sys.stdout.write(json.dumps(_plain(obj), indent=2, ensure_ascii=False, default=str) + "\n")


def print_rows(items: Sequence[T], *, as_json: bool, empty: str, row: Callable[[T], object]) -> None:
    """What every list command prints: ITEMS as JSON (--json), else EMPTY when there are
    none, else one line `row(item)` per item."""
    if as_json:
        print_json(items)
    elif not items:
        print(empty)
    else:
        for item in items:
            print(row(item))


def parse_vars(pairs: list[str] | None) -> dict:
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--var {pair!r}: expected KEY=VALUE")
        out[key] = value
    return out
