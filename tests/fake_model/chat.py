"""OpenAI Chat Completions (aider, opencode): POST /v1/chat/completions, streamed or not.

aider sends no tools: edits and shell commands are text blocks in the reply, in
the edit format its system prompt asks for (whole, diff or udiff). opencode sends
`tools` (write {filePath, content}, bash {command, description}): the reply then
carries `tool_calls`, and turns are counted as tool calls since the prompt.
"""
from __future__ import annotations

import time

import json

from .brain import Conversation, Reply, Shell, Write
from .util import abs_path, find_cwd, new_id, pieces

CWD_PATTERNS = [r"Working directory: (\S+)", r"Workspace root folder: (\S+)"]


def special(path: str, body: dict):
    return None


def _text(content) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text", "") for p in content or [] if isinstance(p, dict))


def parse(body: dict, path: str) -> Conversation:
    messages = [m for m in body.get("messages", []) if isinstance(m, dict)]
    system = "\n".join(_text(m.get("content")) for m in messages if m.get("role") == "system")
    prompt, prompt_at, user_texts = "", -1, []
    for i, m in enumerate(messages):
        if m.get("role") == "user":
            text = _text(m.get("content"))
            user_texts.append(text)
            prompt, prompt_at = text, i
    if body.get("tools"):  # a tool-calling client (opencode)
        turn = sum(len(m.get("tool_calls") or []) for m in messages[prompt_at + 1:] if m.get("role") == "assistant")
        results = []
        for m in reversed(messages):
            if m.get("role") != "tool":
                break
            results.insert(0, _text(m.get("content")))
        return Conversation(protocol="chat", prompt=prompt.strip(), turn=turn, tool_results=results,
                            cwd=find_cwd([system], CWD_PATTERNS), has_tools=True, system=system,
                            user_texts=user_texts)
    # aider appends reminders after the typed text: the first paragraph is what was typed.
    typed = prompt.strip().split("\n\n", 1)[0]
    turn = sum(1 for m in messages[prompt_at + 1:] if m.get("role") == "assistant")
    side = (not body.get("stream") or "commit message" in system.lower()
            or "title generator" in system.lower())
    return Conversation(protocol="chat", prompt=typed, turn=turn, tool_results=[], cwd=None,
                        has_tools=not side, system=system, user_texts=user_texts)


def error_body(status: int, message: str) -> dict:
    return {"error": {"message": message, "type": "server_error", "code": status}}


def edit_format(system: str) -> str:
    if "SEARCH/REPLACE" in system:
        return "diff"
    if "unified diff" in system.lower() or "udiff" in system.lower():
        return "udiff"
    return "whole"


def reply_text(reply: Reply, conv: Conversation) -> str:
    fmt = edit_format(conv.system)
    parts = [reply.text] if reply.text else []
    for action in reply.tool_calls:
        if isinstance(action, Write):
            body = action.content if action.content.endswith("\n") else action.content + "\n"
            if fmt == "diff":
                parts.append(f"{action.path}\n```\n<<<<<<< SEARCH\n=======\n{body}>>>>>>> REPLACE\n```")
            elif fmt == "udiff":
                added = "".join("+" + ln + "\n" for ln in body.splitlines())
                parts.append(f"```diff\n--- /dev/null\n+++ {action.path}\n@@ -0,0 +1,{len(body.splitlines())} @@\n{added}```")
            else:
                parts.append(f"{action.path}\n```\n{body}```")
        else:
            assert isinstance(action, Shell)
            parts.append(f"```bash\n{action.command}\n```")
    return "\n\n".join(parts) + "\n"


def _tool_call(action, conv: Conversation, tools: list) -> tuple[str, dict]:
    """The client's own write/bash tool, with the argument names its schema uses."""
    by_name = {t.get("function", {}).get("name", ""): t.get("function", {}) for t in tools}
    if isinstance(action, Write):
        name = next((n for n in ("write", "write_file", "Write") if n in by_name), "write")
        props = (by_name.get(name, {}).get("parameters") or {}).get("properties", {})
        key = next((k for k in ("filePath", "file_path", "path") if k in props), "filePath")
        return name, {key: abs_path(conv.cwd, action.path), "content": action.content}
    assert isinstance(action, Shell)
    name = next((n for n in ("bash", "shell", "run_shell_command", "Bash") if n in by_name), "bash")
    return name, {"command": action.command, "description": f"Run {action.command[:40]}"}


def render(reply: Reply, conv: Conversation, body: dict, url, out, chunk_delay: float) -> None:
    if body.get("tools") and conv.has_tools:
        return _render_tools(reply, conv, body, out, chunk_delay)
    text = reply_text(reply, conv)
    cid, model, now = new_id("chatcmpl-"), body.get("model", "fake-model"), int(time.time())
    usage = out.usage.chat()
    if not body.get("stream"):
        out.json(200, {"id": cid, "object": "chat.completion", "created": now, "model": model,
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                    "finish_reason": "stop"}], "usage": usage})
        return
    out.sse_start()

    def chunk(delta: dict, finish=None) -> None:
        out.event(None, {"id": cid, "object": "chat.completion.chunk", "created": now, "model": model,
                         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    chunk({"role": "assistant", "content": ""})
    for n, part in enumerate(pieces(text, 32)):
        chunk({"content": part})
        if n == 0 and reply.stall and not out.sleep(reply.stall):
            return
        if chunk_delay and not out.sleep(chunk_delay):
            return
    chunk({}, finish="stop")
    out.event(None, "[DONE]")
    out.end()


def _render_tools(reply: Reply, conv: Conversation, body: dict, out, chunk_delay: float) -> None:
    cid, model, now = new_id("chatcmpl-"), body.get("model", "fake-model"), int(time.time())
    calls = [_tool_call(a, conv, body.get("tools") or []) for a in reply.tool_calls]
    if not body.get("stream"):
        msg = {"role": "assistant", "content": reply.text or None}
        if calls:
            msg["tool_calls"] = [{"id": new_id("call_"), "type": "function",
                                  "function": {"name": n, "arguments": json.dumps(a)}} for n, a in calls]
        out.json(200, {"id": cid, "object": "chat.completion", "created": now, "model": model,
                       "choices": [{"index": 0, "message": msg, "finish_reason": "tool_calls" if calls else "stop"}],
                       "usage": out.usage.chat()})
        return
    out.sse_start()

    def chunk(delta: dict, finish=None) -> None:
        out.event(None, {"id": cid, "object": "chat.completion.chunk", "created": now, "model": model,
                         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    chunk({"role": "assistant", "content": ""})
    for n, part in enumerate(pieces(reply.text) if reply.text else []):
        chunk({"content": part})
        if n == 0 and reply.stall and not out.sleep(reply.stall):
            return
        if chunk_delay and not out.sleep(chunk_delay):
            return
    for i, (name, args) in enumerate(calls):
        chunk({"tool_calls": [{"index": i, "id": new_id("call_"), "type": "function",
                               "function": {"name": name, "arguments": ""}}]})
        for part in pieces(json.dumps(args), 64):
            chunk({"tool_calls": [{"index": i, "function": {"arguments": part}}]})
    chunk({}, finish="tool_calls" if calls else "stop")
    out.event(None, {"id": cid, "object": "chat.completion.chunk", "created": now, "model": model, "choices": [],
                     "usage": out.usage.chat()})
    out.event(None, "[DONE]")
    out.end()
