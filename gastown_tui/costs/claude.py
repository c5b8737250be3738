"""Claude Code's records: `<home>/.claude/projects/<project>/<session>.jsonl`.

An assistant line carries `message.usage` (`input_tokens`, `output_tokens`,
`cache_creation_input_tokens`, `cache_read_input_tokens`), `message.model`, `timestamp` and `sessionId`.
One API response is written as several lines (one per content block) repeating the same usage, so
records are keyed by the message id (and request id): a repeat replaces, never adds.
"""
from __future__ import annotations

import json
from pathlib import Path

from gastown_tui.costs.timestamps import parse_ts
from gastown_tui.costs.usage import Usage, as_int

NAME = "claude"


def files(home: Path) -> list[Path]:
    root = home / ".claude" / "projects"
    return sorted(root.glob("*/*.jsonl")) + sorted(root.glob("*/*/subagents/*.jsonl")) if root.is_dir() else []


def new_state() -> dict:
    return {}


def parse_line(raw: bytes, state: dict, agent_key: str):
    """(key, Usage) for a line with usage, None for other lines; ValueError for a broken usage line."""
    if b'"usage"' not in raw:
        return None
    d = json.loads(raw)
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
                      input=as_int(u.get("input_tokens")), output=as_int(u.get("output_tokens")),
                      cache_write=as_int(u.get("cache_creation_input_tokens")),
                      cache_read=as_int(u.get("cache_read_input_tokens")))
