"""The shipped default prices: US dollars per million tokens, per model name pattern (fnmatch, first match
wins). Override or extend in settings/config.json under "prices" (same shape; those patterns are tried
first). A model no pattern matches has no price: its tokens are shown with "price unknown", never as $0.

The figures are the vendors' published list prices for standard API use as known to this project; check
them against your own contract and override what differs.
"""
from __future__ import annotations

DEFAULT_PRICES: dict[str, dict[str, float]] = {
    "claude-opus-4-[5-9]*": {"input": 5.0, "output": 25.0, "cache_write": 6.25, "cache_read": 0.50},
    "claude-opus-4*": {"input": 15.0, "output": 75.0, "cache_write": 18.75, "cache_read": 1.50},
    "claude-sonnet-4*": {"input": 3.0, "output": 15.0, "cache_write": 3.75, "cache_read": 0.30},
    "claude-haiku-4*": {"input": 1.0, "output": 5.0, "cache_write": 1.25, "cache_read": 0.10},
    "claude-3-5-haiku*": {"input": 0.80, "output": 4.0, "cache_write": 1.0, "cache_read": 0.08},
    "gpt-5*-mini*": {"input": 0.25, "output": 2.0, "cache_write": 0.0, "cache_read": 0.025},
    "gpt-5*": {"input": 1.25, "output": 10.0, "cache_write": 0.0, "cache_read": 0.125},
    "gemini-*-pro*": {"input": 1.25, "output": 10.0, "cache_write": 0.0, "cache_read": 0.125},
    "gemini-*-flash-lite*": {"input": 0.10, "output": 0.40, "cache_write": 0.0, "cache_read": 0.025},
    "gemini-*-flash*": {"input": 0.30, "output": 2.50, "cache_write": 0.0, "cache_read": 0.075},
}
