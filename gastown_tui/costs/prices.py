"""Tokens to money: the shipped table (price_table.py) with the town's overrides (settings "prices")."""
from __future__ import annotations

import json
from fnmatch import fnmatchcase
from pathlib import Path

from gastown_tui.costs.price_table import DEFAULT_PRICES
from gastown_tui.costs.usage import FIELDS, Usage
from gastown_tui.errors import UserError


def read_settings(path: Path) -> dict:
    """settings/config.json as a dict ({} when absent); UserError naming file and line when invalid."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    except ValueError as exc:   # json's plain ValueError: a number too long to convert
        raise UserError(f"{path}: invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: the settings must be a JSON object")
    return data


class Prices:
    def __init__(self, table: dict[str, dict[str, float]] | None = None):
        self.table = dict(table or {})
        self._memo: dict[str | None, dict[str, float] | None] = {}
        self._rates: dict[str | None, tuple[float, float, float, float] | None] = {}

    @classmethod
    def for_town(cls, town_root: Path) -> "Prices":
        """The shipped table under the town's `prices` (settings/config.json); a bad entry is an error
        naming the file and the pattern."""
        path = Path(town_root) / "settings" / "config.json"
        data = read_settings(path)
        over = data.get("prices") or {}
        if not isinstance(over, dict):
            raise UserError(f"{path}: prices must be an object of model pattern -> per-million-token prices")
        for pattern, entry in over.items():
            bad = not isinstance(entry, dict) or any(
                k not in FIELDS or isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0
                for k, v in entry.items())
            if bad:
                raise UserError(f"{path}: prices[{pattern!r}] must map input/output/cache_write/cache_read "
                                f"to dollars per million tokens, got {entry!r}")
        return cls({**over, **{k: v for k, v in DEFAULT_PRICES.items() if k not in over}})

    def rate(self, model: str | None) -> dict[str, float] | None:
        if model in self._memo:
            return self._memo[model]
        found = None
        if model:
            for pattern, entry in self.table.items():
                if fnmatchcase(model, pattern):
                    found = entry
                    break
        self._memo[model] = found
        return found

    def rates(self, model: str | None) -> tuple[float, float, float, float] | None:
        """MODEL's four prices (input, output, cache write, cache read; dollars per million tokens), or None
        when it has no price; looked up once per model."""
        try:
            return self._rates[model]
        except KeyError:
            r = self.rate(model)
            got = self._rates[model] = None if r is None else (
                r.get("input", 0), r.get("output", 0), r.get("cache_write", 0), r.get("cache_read", 0))
            return got

    def cost(self, u: Usage) -> float | None:
        """Dollars for one call, or None when the model has no price."""
        r = self.rates(u.model)
        if r is None:
            return None
        return (u.input * r[0] + u.output * r[1] + u.cache_write * r[2] + u.cache_read * r[3]) / 1_000_000
