"""Gemini CLI's records: `<home>/.gemini/tmp/<project>/chats/session-*.jsonl`.

A `"type": "gemini"` message line carries `tokens` (`input` counting cached ones, `output`, `cached`,
`thoughts`, `tool`, `total`) and `model`; the same message id is written again as it is updated, so
records are keyed by id (the newest line wins). Thinking tokens are billed as output.
"""
from __future__ import annotations

from pathlib import Path

from gastown_tui.costs.timestamps import parse_ts
from gastown_tui.costs.files import files_under
from gastown_tui.costs.usage import BROKEN, Usage, as_ints

NAME = "gemini"


def files(home: Path) -> list[str]:

    return files_under(str(home / ".gemini" / "tmp"), 2, sub="chats")


def new_state() -> dict:
    return {"session": ""}


def pick(lines: list[bytes]) -> list[int]:
    """The indexes of the lines that may hold usage or the session id (the others are not decoded)."""
    return [i for i, raw in enumerate(lines) if b'"tokens"' in raw or b'"sessionId"' in raw]


def take(objs: list, state: dict, agent_key: str, records: dict) -> list[tuple[int, str]]:
    """Works a chunk's decoded lines (None: a line that was not JSON) into RECORDS (id -> Usage); returns the
    broken usage records as (index in OBJS, reason). The session id is the first one the file names; of the
    lines repeating one message id only the last is worked on, in one pass with no call per line."""
    session = before = state["session"]
    since = len(objs)           # the index of the line that named the session, in this chunk
    last: dict[str, int] = {}
    for n, d in enumerate(objs):
        if type(d) is not dict:
            continue
        if "sessionId" in d and "tokens" not in d:
            sid = d["sessionId"]
            if not session and type(sid) is str and sid:
                session, since = sid, n
        elif d.get("type") == "gemini" and type(d.get("tokens")) is dict:
            key = str(d.get("id"))
            if key in last:
                del last[key]       # kept in the order of each id's last line
            last[key] = n
    state["session"] = session
    bad = []
    for key, n in last.items():
        d = objs[n]
        t = d["tokens"]
        try:
            prompt, cached, output, thoughts = as_ints(t.get("input"), t.get("cached"), t.get("output"),
                                                       t.get("thoughts"))
            if cached > prompt:
                raise ValueError(f"cached {cached} exceeds input {prompt}")
            model = d.get("model")
            records[key] = Usage(NAME, agent_key, session if n > since else before, parse_ts(d.get("timestamp")),
                                 model if type(model) is str else None, prompt - cached, output + thoughts, 0, cached)
        except BROKEN as exc:
            bad.append((n, f"unreadable usage record ({exc})"))
    return bad
