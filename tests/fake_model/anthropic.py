"""Anthropic Messages API (Claude Code): POST /v1/messages, streamed as SSE with tool_use."""
from __future__ import annotations

import json
import re

from .brain import Conversation, Reply, Shell, Write
from .util import abs_path, find_cwd, is_machine_text, new_id, pieces

QUEUED = re.compile(r"The user sent a new message while you were working:\n(.*?)(?:\n\nIMPORTANT:|$)", re.S)
CWD_PATTERNS = [r"Primary working directory: (\S+)", r"Working directory: (\S+)"]


def special(path: str, body: dict):
    if path.rstrip("/").endswith("/count_tokens"):
        return {"input_tokens": 100}
    return None


def _texts(content) -> list[str]:
    if isinstance(content, str):
        return [content]
    return [b.get("text", "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text"]


def _result_text(block: dict) -> str:
    c = block.get("content")
    if isinstance(c, str):
        return c
    return "\n".join(b.get("text", "") for b in c or [] if isinstance(b, dict) and b.get("type") == "text")


def parse(body: dict, path: str) -> Conversation:
    system = body.get("system") or ""
    system_text = system if isinstance(system, str) else "\n".join(
        b.get("text", "") for b in system if isinstance(b, dict))
    messages = [m for m in body.get("messages", []) if isinstance(m, dict)]
    prompt, prompt_at, user_texts = "", -1, []
    for i, m in enumerate(messages):
        if m.get("role") == "system":  # a message typed while the model was busy arrives this way
            human = [q.group(1) for t in _texts(m.get("content")) if (q := QUEUED.match(t))]
        elif m.get("role") == "user":
            human = [t for t in _texts(m.get("content")) if not is_machine_text(t)]
        else:
            continue
        if human:
            user_texts.extend(human)
            prompt, prompt_at = human[-1], i
    turn = 0
    for m in messages[prompt_at + 1:]:
        if m.get("role") == "assistant" and isinstance(m.get("content"), list):
            turn += sum(1 for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_use")
    results = []
    if messages and messages[-1].get("role") == "user" and isinstance(messages[-1].get("content"), list):
        results = [_result_text(b) for b in messages[-1]["content"]
                   if isinstance(b, dict) and b.get("type") == "tool_result"]
    fmt = (body.get("output_config") or {}).get("format") or {}
    schema = fmt.get("schema") if fmt.get("type") == "json_schema" else None
    all_texts = [system_text] + [t for m in messages for t in _texts(m.get("content"))]
    return Conversation(
        protocol="anthropic", prompt=prompt.strip(), turn=turn, tool_results=results,
        cwd=find_cwd(all_texts, CWD_PATTERNS), has_tools=bool(body.get("tools")),
        json_schema=schema, system=system_text, user_texts=user_texts,
    )


def error_body(status: int, message: str) -> dict:
    kind = {529: "overloaded_error", 429: "rate_limit_error", 400: "invalid_request_error",
            401: "authentication_error"}.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


def _tool_block(action, conv: Conversation) -> tuple[str, dict]:
    if isinstance(action, Write):
        return "Write", {"file_path": abs_path(conv.cwd, action.path), "content": action.content}
    assert isinstance(action, Shell)
    return "Bash", {"command": action.command, "description": f"Run {action.command[:40]}"}


def render(reply: Reply, conv: Conversation, body: dict, url, out, chunk_delay: float) -> None:
    out.sse_start()
    model = body.get("model", "fake-model")
    out.event("message_start", {"type": "message_start", "message": {
        "id": new_id("msg_"), "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None,
        "usage": out.usage.anthropic_start()}})
    out.event("ping", {"type": "ping"})
    index = 0
    text = reply.text
    if text or not reply.tool_calls:
        out.event("content_block_start", {"type": "content_block_start", "index": index,
                                          "content_block": {"type": "text", "text": ""}})
        for n, part in enumerate(pieces(text)):
            out.event("content_block_delta", {"type": "content_block_delta", "index": index,
                                              "delta": {"type": "text_delta", "text": part}})
            if n == 0 and reply.stall and not out.sleep(reply.stall):
                return
            if chunk_delay and not out.sleep(chunk_delay):
                return
        out.event("content_block_stop", {"type": "content_block_stop", "index": index})
        index += 1
    for action in reply.tool_calls:
        name, args = _tool_block(action, conv)
        out.event("content_block_start", {"type": "content_block_start", "index": index, "content_block": {
            "type": "tool_use", "id": new_id("toolu_"), "name": name, "input": {}}})
        for part in pieces(json.dumps(args), 64):
            out.event("content_block_delta", {"type": "content_block_delta", "index": index,
                                              "delta": {"type": "input_json_delta", "partial_json": part}})
        out.event("content_block_stop", {"type": "content_block_stop", "index": index})
        index += 1
    stop = "tool_use" if reply.tool_calls else "end_turn"
    out.event("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                "usage": out.usage.anthropic_delta()})
    out.event("message_stop", {"type": "message_stop"})
    out.end()

