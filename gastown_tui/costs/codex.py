"""Codex's records: `<home>/.codex/sessions/YYYY/MM/DD/rollout-<time>-<session>.jsonl`.

`token_usage_record` lines carry one response's `usage` (`input_tokens` counting cached ones,
`cached_input_tokens`, `cache_write_input_tokens`, `output_tokens`) keyed by `response_id`; the model
comes from the `turn_context` line before. Older rollouts have only `token_count` events with a running
`total_token_usage`: then each event's increase is one record.
"""
from __future__ import annotations

from pathlib import Path

from gastown_tui.costs.timestamps import parse_ts
from gastown_tui.costs.files import files_under
from gastown_tui.costs.usage import BROKEN, Usage, as_int, as_ints

NAME = "codex"


def files(home: Path) -> list[str]:

    return files_under(str(home / ".codex" / "sessions"), 3, prefix="rollout-")


def new_state() -> dict:
    return {"model": None, "session": "", "records": False, "total": None, "n": 0}


def _usage(u: dict, state: dict, agent_key: str, ts: float) -> Usage:
    prompt, cached, output, cache_write = as_ints(u.get("input_tokens"), u.get("cached_input_tokens"),
                                                  u.get("output_tokens"), u.get("cache_write_input_tokens"))
    if cached > prompt:
        raise ValueError(f"cached_input_tokens {cached} exceeds input_tokens {prompt}")
    return Usage(NAME, agent_key, state["session"], ts, state["model"], prompt - cached, output, cache_write, cached)


def pick(lines: list[bytes]) -> list[int]:
    """The indexes of the lines that may hold usage, the model or the session (the others are not decoded)."""
    return [i for i, raw in enumerate(lines) if b'token_' in raw or b'"turn_context"' in raw
            or b'"session_meta"' in raw]


def take(objs: list, state: dict, agent_key: str, records: dict) -> list[tuple[int, str]]:
    """Works a chunk's decoded lines (None: a line that was not JSON), in order, into RECORDS (key ->
    Usage); returns the broken usage records as (index in OBJS, reason)."""
    bad = []
    for n, d in enumerate(objs):
        if type(d) is not dict:
            continue
        p = d.get("payload")
        if type(p) is not dict:
            continue
        try:
            got = _record(d.get("type"), d, p, state, agent_key)
        except BROKEN as exc:
            bad.append((n, f"unreadable usage record ({exc})"))
            continue
        if got is not None:
            records[got[0]] = got[1]
    return bad


def _record(kind: object, d: dict, p: dict, state: dict, agent_key: str) -> tuple[str, Usage] | None:
    """(key, Usage) for a usage line, None for the others (which may name the session or the model)."""
    if kind == "token_usage_record" and type(p.get("usage")) is dict:
        state["records"] = True
        state["session"] = state["session"] or str(p.get("session_id") or "")
        key = str(p.get("response_id") or f"line:{d.get('ordinal')}")
        return key, _usage(p["usage"], state, agent_key, parse_ts(d.get("timestamp")))
    if kind == "turn_context":
        if type(p.get("model")) is str:
            state["model"] = p["model"]
        return None
    if kind == "session_meta":
        state["session"] = str(p.get("id") or state["session"])
        if type(p.get("model")) is str:
            state["model"] = p["model"]
        return None
    if kind == "event_msg" and p.get("type") == "token_count" and not state["records"]:
        info = p.get("info")
        total = info.get("total_token_usage") if isinstance(info, dict) else None
        if not isinstance(total, dict):
            return None
        prev = state["total"] or {}
        delta = {k: as_int(total.get(k)) - as_int(prev.get(k)) for k in
                 ("input_tokens", "cached_input_tokens", "cache_write_input_tokens", "output_tokens")}
        state["total"] = total
        if not any(delta.values()):
            return None          # a repeated count: no new call
        if any(v < 0 for v in delta.values()):
            raise ValueError("token_count went backwards")
        state["n"] += 1
        return f"count:{state['n']}", _usage(delta, state, agent_key, parse_ts(d.get("timestamp")))
    return None
