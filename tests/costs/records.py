"""Writers of usage records in each agent CLI's own format (the shapes the real CLIs wrote against the fake
model server, see tests/agents/test_costs_agents.py), for tests and the benchmark."""
from __future__ import annotations

import json
from pathlib import Path


def iso(ts: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _j(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))     # the CLIs write compact JSON


def claude_lines(session: str, calls: list[dict], model: str = "claude-opus-4-8") -> list[str]:
    """Each call: {ts, input, output, cache_write, cache_read}; written as Claude Code 2.1 does (its key order,
    compact), one line per content block (the same usage twice), between user lines."""
    out = []
    for n, c in enumerate(calls):
        out.append(_j({"parentUuid": None, "isSidechain": False, "message": {"role": "user", "content": "go"},
                       "type": "user", "uuid": f"u{n}", "timestamp": iso(c["ts"]), "sessionId": session}))
        usage = {"input_tokens": c["input"], "cache_creation_input_tokens": c.get("cache_write", 0),
                 "cache_read_input_tokens": c.get("cache_read", 0), "output_tokens": c["output"],
                 "service_tier": "standard"}
        for block in ("text", "tool_use"):
            out.append(_j({"parentUuid": f"u{n}", "isSidechain": False,
                           "message": {"id": f"msg_{session}_{c['ts']}_{n}", "type": "message", "role": "assistant",
                                       "model": c.get("model", model), "content": [{"type": block, "text": "x"}],
                                       "stop_reason": None, "stop_sequence": None, "usage": usage},
                           "requestId": f"req_{session}_{c['ts']}_{n}", "type": "assistant", "uuid": f"a{n}{block}",
                           "timestamp": iso(c["ts"]), "userType": "external", "cwd": "/w", "sessionId": session}))
    return out


def write_claude(home: Path, project: str, session: str, calls: list[dict], **kw) -> Path:
    path = home / ".claude" / "projects" / project / f"{session}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fh.write("".join(line + "\n" for line in claude_lines(session, calls, **kw)))
    return path


def write_codex(home: Path, session: str, calls: list[dict], model: str = "gpt-5-codex") -> Path:
    path = home / ".codex" / "sessions" / "2026" / "12" / "07" / f"rollout-2026-12-07T10-00-00-{session}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [{"timestamp": iso(calls[0]["ts"]), "type": "session_meta", "payload": {"id": session}},
             {"timestamp": iso(calls[0]["ts"]), "type": "turn_context", "payload": {"model": model}}]
    for n, c in enumerate(calls):
        u = {"input_tokens": c["input"] + c.get("cache_read", 0), "cached_input_tokens": c.get("cache_read", 0),
             "cache_write_input_tokens": 0, "output_tokens": c["output"], "reasoning_output_tokens": 0}
        lines.append({"timestamp": iso(c["ts"]), "type": "token_usage_record",
                      "payload": {"session_id": session, "response_id": f"resp_{session}_{c['ts']}_{n}", "usage": u}})
    with path.open("a") as fh:
        fh.write("".join(_j(x) + "\n" for x in lines))
    return path


def write_gemini(home: Path, session: str, calls: list[dict], model: str = "gemini-3.8-flash") -> Path:
    path = home / ".gemini" / "tmp" / "proj" / "chats" / f"session-2026-12-07T10-00-{session}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [{"sessionId": session, "projectHash": "x", "startTime": iso(calls[0]["ts"]), "kind": "main"}]
    for n, c in enumerate(calls):
        msg = {"id": f"{session}-{c['ts']}-{n}", "timestamp": iso(c["ts"]), "type": "gemini", "content": "",
               "tokens": {"input": c["input"] + c.get("cache_read", 0), "output": c["output"],
                          "cached": c.get("cache_read", 0), "thoughts": 0, "tool": 0,
                          "total": c["input"] + c.get("cache_read", 0) + c["output"]}, "model": model}
        lines += [msg, {"$set": {"lastUpdated": iso(c["ts"])}}, msg]     # Gemini CLI writes a message twice
    with path.open("a") as fh:
        fh.write("".join(_j(x) + "\n" for x in lines))
    return path
