"""Claude Code's records: `<home>/.claude/projects/<project>/<session>.jsonl`.

An assistant line carries `message.usage` (`input_tokens`, `output_tokens`,
`cache_creation_input_tokens`, `cache_read_input_tokens`), `message.model`, `timestamp` and `sessionId`.
One API response is written as several lines (one per content block) repeating the same usage, so
records are keyed by the message id (and request id): a repeat replaces, never adds.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from gastown_tui.costs.timestamps import parse_ts
from gastown_tui.costs.usage import Usage, as_int

NAME = "claude"


def files(home: Path) -> list[str]:
    from gastown_tui.costs.reader import files_under

    root = str(home / ".claude" / "projects")
    return files_under(root, 1) + files_under(root, 3, sub="subagents")


def new_state() -> dict:
    return {}


_USAGE = re.compile(rb'"usage":\{"input_tokens":(\d+),"cache_creation_input_tokens":(\d+),'
                    rb'"cache_read_input_tokens":(\d+),"output_tokens":(\d+)[,}]')
_LAST_STR = {k: re.compile(rb'"' + k + rb'":"([^"\\]*)"') for k in (b"timestamp", b"sessionId", b"requestId")}
_MSG_HEAD = re.compile(rb'"message":\{"id":"([^"\\]*)","type":"message","role":"assistant","model":"([^"\\]*)"')


def _last(raw: bytes, key: bytes, start: int) -> str | None:
    i = raw.rfind(b'"' + key + b'":"', start)
    if i < 0:
        return None
    m = _LAST_STR[key].match(raw, i)
    return m.group(1).decode() if m else None


def _fast(raw: bytes, agent_key: str):
    """The same answer without decoding the whole line (which holds the reply's text), for lines in the
    exact compact shape Claude Code writes: the usage is the last `"usage":{` (the free text comes before
    it), message id and model open the message; anything else goes through json."""
    i = raw.rfind(b'"usage":{"input_tokens":')
    m = _USAGE.match(raw, i) if i >= 0 else None
    head = _MSG_HEAD.search(raw, 0, i) if m else None
    if head is None or head.start() > 200 or raw.find(b'"type":"assistant"', m.end()) < 0:
        return None
    ts, session = _last(raw, b"timestamp", m.end()), _last(raw, b"sessionId", m.end())
    if ts is None or session is None:
        return None
    model = head.group(2).decode()
    if model == "<synthetic>":
        return False
    request = _last(raw, b"requestId", m.end()) or ""
    return f"{head.group(1).decode()}:{request}", Usage(
        NAME, agent_key, session, parse_ts(ts), model, input=int(m.group(1)), output=int(m.group(4)),
        cache_write=int(m.group(2)), cache_read=int(m.group(3)))


def parse_line(raw: bytes, state: dict, agent_key: str):
    """(key, Usage) for a line with usage, None for other lines; ValueError for a broken usage line."""
    if b'"usage"' not in raw:
        return None
    fast = _fast(raw, agent_key)
    if fast is not None:
        return fast or None
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
