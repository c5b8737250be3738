"""Claude Code's records: `<home>/.claude/projects/<project>/<session>.jsonl`.

An assistant line carries `message.usage` (`input_tokens`, `output_tokens`,
`cache_creation_input_tokens`, `cache_read_input_tokens`), `message.model`, `timestamp` and `sessionId`.
One API response is written as several lines (one per content block) repeating the same usage, so
records are keyed by the message id (and request id): a repeat replaces, never adds.
"""
from __future__ import annotations

from pathlib import Path

from gastown_tui.costs.timestamps import parse_ts
from gastown_tui.costs.files import files_under
from gastown_tui.costs.usage import BROKEN, Usage, as_ints

NAME = "claude"


def files(home: Path) -> list[str]:

    root = str(home / ".claude" / "projects")
    return files_under(root, 1) + files_under(root, 3, sub="subagents")


def new_state() -> dict:
    return {}


# Only lines holding this can carry a model call's usage (the others are not decoded at all).
MARK = b'"usage"'


def pick(lines: list[bytes]) -> list[int]:
    """The indexes of the lines that may hold usage."""
    return [i for i, raw in enumerate(lines) if MARK in raw]


def take(objs: list, state: dict, agent_key: str, records: dict) -> list[tuple[int, str]]:
    """Works a chunk's decoded lines (None: a line that was not JSON) into RECORDS (key -> Usage); returns
    the broken usage records as (index in OBJS, reason). Of several lines repeating one record (same message
    id and request id: one line per content block) only the last is worked on, in one pass with no call
    per line."""
    last: dict[str, int] = {}
    for n, d in enumerate(objs):
        if type(d) is not dict or d.get("type") != "assistant":
            continue
        msg = d.get("message")
        if type(msg) is not dict or type(msg.get("usage")) is not dict:
            continue
        key = f"{msg.get('id') or d.get('uuid')}:{d.get('requestId') or ''}"
        if key in last:
            del last[key]       # kept in the order of each key's last line
        last[key] = n
    bad = []
    for key, n in last.items():
        d = objs[n]
        msg = d["message"]
        model = msg.get("model")
        if type(model) is not str:
            model = None
        elif model == "<synthetic>":     # Claude Code's own stand-in messages (errors, interrupts): no model call
            continue
        u = msg["usage"]
        try:
            records[key] = Usage(NAME, agent_key, str(d.get("sessionId") or ""), parse_ts(d.get("timestamp")),
                                 model, *as_ints(u.get("input_tokens"), u.get("output_tokens"),
                                                 u.get("cache_creation_input_tokens"), u.get("cache_read_input_tokens")))
        except BROKEN as exc:
            bad.append((n, f"unreadable usage record ({exc})"))
    return bad

