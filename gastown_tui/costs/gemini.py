"""Gemini CLI's records: `<home>/.gemini/tmp/<project>/chats/session-*.jsonl`.

A `"type": "gemini"` message line carries `tokens` (`input` counting cached ones, `output`, `cached`,
`thoughts`, `tool`, `total`) and `model`; the same message id is written again as it is updated, so
records are keyed by id (the newest line wins). Thinking tokens are billed as output.
"""
from __future__ import annotations

from pathlib import Path

import orjson

from gastown_tui.costs.timestamps import parse_ts
from gastown_tui.costs.files import files_under
from gastown_tui.costs.usage import Usage, as_ints

NAME = "gemini"


def files(home: Path) -> list[str]:

    return files_under(str(home / ".gemini" / "tmp"), 2, sub="chats")


def new_state() -> dict:
    return {"session": ""}


def pick(lines: list[bytes]) -> list[int]:
    """The indexes of the lines that may hold usage or the session id (the others are not decoded)."""
    return [i for i, raw in enumerate(lines) if b'"tokens"' in raw or b'"sessionId"' in raw]


def raw_key(raw: bytes) -> str | None:
    """A message line's id before it is decoded (Gemini CLI opens the line with it): the reader then decodes
    only the last line of each id. None: decode it."""
    if not raw.startswith(b'{"id":"') or b'"type":"gemini"' not in raw:
        return None
    key = raw[7:raw.find(b'"', 7)]
    return None if b"\\" in key else key.decode("utf-8", "replace")


def key_of(d) -> str | None:
    """A message's id: the reader keeps only the last line of each id in a chunk (Gemini CLI writes a
    message again as it is updated)."""
    if type(d) is not dict or d.get("type") != "gemini" or type(d.get("tokens")) is not dict:
        return None             # not a record: never makes an earlier line of its id skipped
    return str(d.get("id"))


def parse_line(raw: bytes, state: dict, agent_key: str):
    if b'"tokens"' not in raw and b'"sessionId"' not in raw:
        return None
    return parse_obj(orjson.loads(raw), state, agent_key)


def parse_obj(d, state: dict, agent_key: str):
    if not isinstance(d, dict):
        return None
    if "sessionId" in d and "tokens" not in d:
        if isinstance(d.get("sessionId"), str) and not state["session"]:
            state["session"] = d["sessionId"]
        return None
    if d.get("type") != "gemini" or not isinstance(d.get("tokens"), dict):
        return None
    t = d["tokens"]
    prompt, cached, output, thoughts = as_ints(t.get("input"), t.get("cached"), t.get("output"), t.get("thoughts"))
    if cached > prompt:
        raise ValueError(f"cached {cached} exceeds input {prompt}")
    model = d.get("model") if isinstance(d.get("model"), str) else None
    return str(d.get("id")), Usage(NAME, agent_key, state["session"], parse_ts(d.get("timestamp")), model,
                                   prompt - cached, output + thoughts, 0, cached)
