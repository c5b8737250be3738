"""Gemini CLI's records: `<home>/.gemini/tmp/<project>/chats/session-*.jsonl`.

A `"type": "gemini"` message line carries `tokens` (`input` counting cached ones, `output`, `cached`,
`thoughts`, `tool`, `total`) and `model`; the same message id is written again as it is updated, so
records are keyed by id (the newest line wins). Thinking tokens are billed as output.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from gastown_tui.costs.timestamps import parse_ts
from gastown_tui.costs.usage import Usage, as_int

NAME = "gemini"


def files(home: Path) -> list[str]:
    from gastown_tui.costs.reader import files_under

    return files_under(str(home / ".gemini" / "tmp"), 2, sub="chats")


def new_state() -> dict:
    return {"session": ""}


_HEAD = re.compile(rb'\{"id":"([^"\\]*)","timestamp":"([^"\\]*)","type":"gemini",')
_TOKENS = re.compile(rb'"tokens":\{"input":(\d+),"output":(\d+),"cached":(\d+),"thoughts":(\d+),"tool":(\d+),'
                     rb'"total":\d+\},"model":"([^"\\]*)"\}$')


def _fast(raw: bytes, state: dict, agent_key: str):
    """The same answer without decoding the message text, for lines in the exact compact shape Gemini CLI
    writes (id, timestamp and type open the line; tokens and model close it); anything else goes through json."""
    head = _HEAD.match(raw)
    if head is None:
        return None
    i = raw.rfind(b'"tokens":{"input":')
    m = _TOKENS.match(raw, i) if i > head.end() else None
    if m is None:
        return None
    prompt, cached = int(m.group(1)), int(m.group(3))
    if cached > prompt:
        raise ValueError(f"cached {cached} exceeds input {prompt}")
    return head.group(1).decode(), Usage(NAME, agent_key, state["session"], parse_ts(head.group(2).decode()),
                                         m.group(6).decode(), input=prompt - cached,
                                         output=int(m.group(2)) + int(m.group(4)), cache_read=cached)


def parse_line(raw: bytes, state: dict, agent_key: str):
    if b'"sessionId"' in raw and not state["session"]:
        d = json.loads(raw)
        if isinstance(d, dict) and isinstance(d.get("sessionId"), str):
            state["session"] = d["sessionId"]
        return None
    if b'"tokens"' not in raw:
        return None
    fast = _fast(raw, state, agent_key)
    if fast is not None:
        return fast
    d = json.loads(raw)
    if not isinstance(d, dict) or d.get("type") != "gemini" or not isinstance(d.get("tokens"), dict):
        return None
    t = d["tokens"]
    cached = as_int(t.get("cached"))
    prompt = as_int(t.get("input"))
    if cached > prompt:
        raise ValueError(f"cached {cached} exceeds input {prompt}")
    model = d.get("model") if isinstance(d.get("model"), str) else None
    return str(d.get("id")), Usage(NAME, agent_key, state["session"], parse_ts(d.get("timestamp")), model,
                                   input=prompt - cached, output=as_int(t.get("output")) + as_int(t.get("thoughts")),
                                   cache_read=cached)
