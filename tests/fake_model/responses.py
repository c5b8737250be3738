"""OpenAI Responses API (Codex CLI): POST /v1/responses, streamed as SSE events."""
from __future__ import annotations

import json
import shlex
import time

from .brain import Conversation, Reply, Shell, Write
from .util import find_cwd, is_machine_text, new_id, pieces

CWD_PATTERNS = [r"<cwd>(.*?)</cwd>"]


def special(path: str, body: dict):
    return None


def _item_texts(item: dict) -> list[str]:
    c = item.get("content")
    if isinstance(c, str):
        return [c]
    return [p.get("text", "") for p in c or [] if isinstance(p, dict) and "text" in p]


def parse(body: dict, path: str) -> Conversation:
    items = body.get("input") or []
    if isinstance(items, str):
        items = [{"type": "message", "role": "user", "content": items}]
    prompt, prompt_at, user_texts = "", -1, []
    for i, it in enumerate(items):
        if it.get("type", "message") == "message" and it.get("role") == "user":
            human = [t for t in _item_texts(it) if not is_machine_text(t)]
            if human:
                user_texts.extend(human)
                prompt, prompt_at = human[-1], i
    after = items[prompt_at + 1:]
    turn = sum(1 for it in after if it.get("type") == "function_call")
    results = []
    for it in reversed(items):
        if it.get("type") != "function_call_output":
            break
        out = it.get("output")
        results.insert(0, out if isinstance(out, str) else json.dumps(out))
    instructions = body.get("instructions") or ""
    all_texts = [instructions] + [t for it in items for t in _item_texts(it)]
    fmt = ((body.get("text") or {}).get("format") or {})
    schema = fmt.get("schema") if fmt.get("type") == "json_schema" else None
    return Conversation(
        protocol="responses", prompt=prompt.strip(), turn=turn, tool_results=results,
        cwd=find_cwd(all_texts, CWD_PATTERNS), has_tools=bool(body.get("tools")),
        json_schema=schema, system=instructions, user_texts=user_texts,
    )


def error_body(status: int, message: str) -> dict:
    return {"error": {"type": "server_error", "code": str(status), "message": message}}


def _call_args(action, conv: Conversation) -> dict:
    if isinstance(action, Write):
        cmd = f"cat > {shlex.quote(action.path)} <<'FAKE_EOF'\n{action.content.rstrip(chr(10))}\nFAKE_EOF"
        args = {"cmd": cmd}
    else:
        assert isinstance(action, Shell)
        args = {"cmd": action.command}
        if action.escalate:
            args["sandbox_permissions"] = "require_escalated"
            args["justification"] = "The fake model needs to run this outside the sandbox."
    if conv.cwd:
        args["workdir"] = conv.cwd
    return args


def render(reply: Reply, conv: Conversation, body: dict, url, out, chunk_delay: float) -> None:
    out.sse_start()
    seq = iter(range(1, 1_000_000))
    rid = new_id("resp_")
    model = body.get("model", "fake-model")
    base = {"id": rid, "object": "response", "created_at": int(time.time()), "model": model, "output": []}

    def ev(kind: str, **data) -> None:
        out.event(kind, {"type": kind, "sequence_number": next(seq), **data})

    ev("response.created", response={**base, "status": "in_progress"})
    ev("response.in_progress", response={**base, "status": "in_progress"})
    output, index = [], 0
    text = reply.text
    if text or not reply.tool_calls:
        mid = new_id("msg_")
        ev("response.output_item.added", output_index=index, item={
            "id": mid, "type": "message", "status": "in_progress", "role": "assistant", "content": []})
        ev("response.content_part.added", item_id=mid, output_index=index, content_index=0,
           part={"type": "output_text", "text": "", "annotations": []})
        for n, part in enumerate(pieces(text)):
            ev("response.output_text.delta", item_id=mid, output_index=index, content_index=0, delta=part)
            if n == 0 and reply.stall and not out.sleep(reply.stall):
                return
            if chunk_delay and not out.sleep(chunk_delay):
                return
        ev("response.output_text.done", item_id=mid, output_index=index, content_index=0, text=text)
        item = {"id": mid, "type": "message", "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}]}
        ev("response.output_item.done", output_index=index, item=item)
        output.append(item)
        index += 1
    for action in reply.tool_calls:
        fid, cid = new_id("fc_"), new_id("call_")
        args = json.dumps(_call_args(action, conv))
        ev("response.output_item.added", output_index=index, item={
            "id": fid, "type": "function_call", "status": "in_progress", "call_id": cid,
            "name": "exec_command", "arguments": ""})
        for part in pieces(args, 64):
            ev("response.function_call_arguments.delta", item_id=fid, output_index=index, delta=part)
        ev("response.function_call_arguments.done", item_id=fid, output_index=index, arguments=args)
        item = {"id": fid, "type": "function_call", "status": "completed", "call_id": cid,
                "name": "exec_command", "arguments": args}
        ev("response.output_item.done", output_index=index, item=item)
        output.append(item)
        index += 1
    usage = out.usage.responses()
    ev("response.completed", response={**base, "status": "completed", "output": output, "usage": usage})
    out.end()
