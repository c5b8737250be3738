"""Claude Code's records: `<home>/.claude/projects/<project>/<session>.jsonl`.

An assistant line carries `message.usage` (`input_tokens`, `output_tokens`,
`cache_creation_input_tokens`, `cache_read_input_tokens`), `message.model`, `timestamp` and `sessionId`.
One API response is written as several lines (one per content block) repeating the same usage, so
records are keyed by the message id (and request id): a repeat replaces, never adds.
"""
from __future__ import annotations

from pathlib import Path

import orjson

from gastown_tui.costs.timestamps import parse_ts
from gastown_tui.costs.files import files_under
from gastown_tui.costs.usage import Usage, as_ints

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


def raw_key(raw: bytes) -> str | None:
    """The key of a line before it is decoded, when its shape shows it plainly (the message's id opening the
    message, the request id): the reader then decodes only the last line of each key. None: decode it."""
    i = raw.find(b'"message":{"id":"')
    r = raw.rfind(b'"requestId":"')
    if i < 0 or r < 0:
        return None
    i += 17
    r += 13
    key = raw[i:raw.find(b'"', i)] + b":" + raw[r:raw.find(b'"', r)]
    return None if b"\\" in key else key.decode("utf-8", "replace")


def key_of(d) -> str | None:
    """The record key of a decoded line (message id and request id), cheaply: the reader keeps only the
    last line of each key in a chunk (Claude Code writes one line per content block, same usage)."""
    if type(d) is not dict or d.get("type") != "assistant":
        return None
    msg = d.get("message")
    if type(msg) is not dict or type(msg.get("usage")) is not dict:
        return None             # not a record: never makes an earlier line of its key skipped
    return f"{msg.get('id') or d.get('uuid')}:{d.get('requestId') or ''}"


def parse_obj(d, state: dict, agent_key: str):
    """(key, Usage) for a decoded assistant line with usage, None for other lines; ValueError (or
    TypeError/KeyError) for a broken usage record."""
    if not isinstance(d, dict) or d.get("type") != "assistant":
        return None
    msg = d.get("message")
    if not isinstance(msg, dict) or not isinstance(msg.get("usage"), dict):
        return None
    u = msg["usage"]
    model = msg.get("model") if isinstance(msg.get("model"), str) else None
    if model == "<synthetic>":     # Claude Code's own stand-in messages (errors, interrupts): no model call
        return None
    key = f"{msg.get('id') or d.get('uuid')}:{d.get('requestId') or ''}"
    return key, Usage(NAME, agent_key, str(d.get("sessionId") or ""), parse_ts(d.get("timestamp")), model,
                      *as_ints(u.get("input_tokens"), u.get("output_tokens"), u.get("cache_creation_input_tokens"),
                               u.get("cache_read_input_tokens")))


def parse_line(raw: bytes, state: dict, agent_key: str):
    """One line: (key, Usage), None for a line without usage; ValueError for a broken usage line."""
    if MARK not in raw:
        return None
    return parse_obj(orjson.loads(raw), state, agent_key)
