"""Gemini API (Gemini CLI): models/<m>:generateContent (incl. the JSON router
request) and models/<m>:streamGenerateContent?alt=sse."""
from __future__ import annotations

import json

from .brain import Conversation, Reply, Shell, Write
from .usage import DEFAULT
from .util import abs_path, find_cwd, is_machine_text, pieces

CWD_PATTERNS = [r"working in the directory:?\s*(\S+)", r"Workspace Directories:?\s*\n\s*-?\s*(\S+)",
                r"current working directory[^:]*:\s*(\S+)"]


def special(path: str, body: dict):
    if path.endswith(":countTokens"):
        return {"totalTokens": 100}
    return None


def _parts_text(content: dict) -> list[str]:
    return [p["text"] for p in content.get("parts", []) if isinstance(p, dict) and isinstance(p.get("text"), str)]


def parse(body: dict, path: str) -> Conversation:
    contents = [c for c in body.get("contents", []) if isinstance(c, dict)]
    sys_inst = body.get("systemInstruction") or {}
    system = "\n".join(_parts_text(sys_inst)) if isinstance(sys_inst, dict) else str(sys_inst)
    prompt, prompt_at, user_texts = "", -1, []
    for i, c in enumerate(contents):
        if c.get("role", "user") == "user":
            human = [t for t in _parts_text(c) if not is_machine_text(t)]
            if human:
                user_texts.extend(human)
                prompt, prompt_at = human[-1], i
    turn = sum(1 for c in contents[prompt_at + 1:] if c.get("role") == "model"
               for p in c.get("parts", []) if isinstance(p, dict) and "functionCall" in p)
    results = []
    if contents and contents[-1].get("role", "user") == "user":
        for p in contents[-1].get("parts", []):
            if isinstance(p, dict) and "functionResponse" in p:
                resp = p["functionResponse"].get("response", {})
                results.append(resp.get("output") if isinstance(resp.get("output"), str) else json.dumps(resp))
    gen = body.get("generationConfig") or {}
    schema = gen.get("responseJsonSchema") or gen.get("responseSchema")
    all_texts = [system] + [t for c in contents for t in _parts_text(c)]
    return Conversation(
        protocol="gemini", prompt=prompt.strip(), turn=turn, tool_results=results,
        cwd=find_cwd(all_texts, CWD_PATTERNS), has_tools=bool(body.get("tools")),
        json_schema=schema, system=system, user_texts=user_texts,
    )


def error_body(status: int, message: str) -> dict:
    names = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 400: "INVALID_ARGUMENT"}
    return {"error": {"code": status, "message": message, "status": names.get(status, "UNKNOWN")}}


def _call(action, conv: Conversation) -> dict:
    if isinstance(action, Write):
        return {"functionCall": {"name": "write_file",
                                 "args": {"file_path": abs_path(conv.cwd, action.path), "content": action.content}}}
    assert isinstance(action, Shell)
    return {"functionCall": {"name": "run_shell_command",
                             "args": {"command": action.command, "description": f"Run {action.command[:40]}"}}}


def _chunk(parts: list[dict], finish: str | None, usage: dict | None = None) -> dict:
    cand = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        cand["finishReason"] = finish
    return {"candidates": [cand],
            "usageMetadata": usage or DEFAULT.gemini(),
            "modelVersion": "fake-model"}


def render(reply: Reply, conv: Conversation, body: dict, url, out, chunk_delay: float) -> None:
    text = reply.text
    calls = [_call(a, conv) for a in reply.tool_calls]
    if not url.path.endswith(":streamGenerateContent"):
        parts = ([{"text": text}] if text else []) + calls
        out.json(200, _chunk(parts or [{"text": ""}], "STOP", out.usage.gemini()))
        return
    out.sse_start()
    texts = pieces(text) if text else []
    for n, part in enumerate(texts):
        last = n == len(texts) - 1 and not calls
        out.event(None, _chunk([{"text": part}], "STOP" if last else None, out.usage.gemini()))
        if n == 0 and reply.stall and not out.sleep(reply.stall):
            return
        if chunk_delay and not out.sleep(chunk_delay):
            return
    if calls or not texts:
        out.event(None, _chunk(calls or [{"text": ""}], "STOP", out.usage.gemini()))
    out.end()
