"""The fake model server itself, over real HTTP on 127.0.0.1 (no agent CLI needed)."""
from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request

import pytest
from fake_model import Brain, FakeModel, Reply, Say, Shell


def post(url: str, body: dict, headers: dict | None = None, timeout: float = 10):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode()


def sse(text: str) -> list[tuple[str | None, object]]:
    out, event = [], None
    for line in text.splitlines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
            out.append((event, data if data == "[DONE]" else json.loads(data)))
            event = None
    return out


@pytest.fixture
def fm(tmp_path):
    with FakeModel(Brain(), max_seconds=60, log_path=tmp_path / "log.jsonl") as server:
        yield server


def test_anthropic_stream_with_a_tool_call_then_the_final_answer(fm):
    system = [{"type": "text", "text": "You are Claude Code.\nPrimary working directory: /w/repo\n"}]
    msgs = [{"role": "user", "content": [{"type": "text", "text": "<system-reminder>ctx</system-reminder>"},
                                         {"type": "text", "text": "write a.txt: hi"}]}]
    body = {"model": "m", "stream": True, "system": system, "tools": [{"name": "Write"}], "messages": msgs}
    status, ctype, text = post(fm.url + "/v1/messages?beta=true", body, {"x-api-key": "sk-secret-1"})
    events = sse(text)
    assert status == 200 and ctype == "text/event-stream"
    assert [e for e, _ in events][:2] == ["message_start", "ping"] and events[-1][0] == "message_stop"
    tool = next(d for e, d in events if e == "content_block_start" and d["content_block"]["type"] == "tool_use")
    args = json.loads("".join(d["delta"]["partial_json"] for e, d in events
                              if e == "content_block_delta" and d["delta"]["type"] == "input_json_delta"))
    assert tool["content_block"]["name"] == "Write" and args == {"file_path": "/w/repo/a.txt", "content": "hi\n"}
    assert next(d for e, d in events if e == "message_delta")["delta"]["stop_reason"] == "tool_use"
    msgs += [{"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Write", "input": args}]},
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]}]
    _, _, text = post(fm.url + "/v1/messages", {**body, "messages": msgs})
    events = sse(text)
    said = "".join(d["delta"]["text"] for e, d in events if e == "content_block_delta")
    assert said == "DONE wrote a.txt"
    assert next(d for e, d in events if e == "message_delta")["delta"]["stop_reason"] == "end_turn"
    log = (fm.log_path.read_text())
    assert "sk-secret-1" not in log and "<redacted>" in log


def test_responses_stream_for_codex(fm):
    body = {"model": "m", "stream": True, "tools": [{"type": "function", "name": "exec_command"}], "input": [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "<environment_context><cwd>/w</cwd>"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "run!: touch x"}]}]}
    _, _, text = post(fm.url + "/v1/responses", body)
    events = sse(text)
    kinds = [e for e, _ in events]
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    call = next(d["item"] for e, d in events if e == "response.output_item.done" and d["item"]["type"] == "function_call")
    assert call["name"] == "exec_command"
    assert json.loads(call["arguments"]) == {"cmd": "touch x", "sandbox_permissions": "require_escalated",
                                             "justification": "The fake model needs to run this outside the sandbox.",
                                             "workdir": "/w"}
    assert events[-1][1]["response"]["usage"]["total_tokens"] == 1050


def test_chat_completions_for_aider_stream_and_commit_message(fm):
    system = "Act as an expert. Use SEARCH/REPLACE blocks."
    body = {"model": "openai/m", "stream": True, "messages": [{"role": "system", "content": system},
                                                               {"role": "user", "content": "write b.txt: yo"}]}
    _, _, text = post(fm.url + "/v1/chat/completions", body)
    events = sse(text)
    assert events[-1][1] == "[DONE]"
    reply = "".join(d["choices"][0]["delta"].get("content", "") for _, d in events[:-1])
    assert "b.txt\n```\n<<<<<<< SEARCH\n=======\nyo\n>>>>>>> REPLACE\n```" in reply
    commit = {"model": "openai/m", "messages": [{"role": "system", "content": "Write one-line Git commit messages"},
                                                {"role": "user", "content": "diff ..."}]}
    status, ctype, text = post(fm.url + "/v1/chat/completions", commit)
    assert status == 200 and "json" in ctype
    assert json.loads(text)["choices"][0]["message"]["content"].strip() == "Apply fake-model edits"


def test_gemini_router_json_and_streamed_function_call(fm):
    schema = {"type": "OBJECT", "properties": {"complexity_reasoning": {"type": "STRING"},
                                               "complexity_score": {"type": "INTEGER"}}}
    router = {"contents": [{"role": "user", "parts": [{"text": "run: ls"}]}],
              "generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": schema}}
    _, _, text = post(fm.url + "/v1beta/models/flash-lite:generateContent", router)
    answer = json.loads(json.loads(text)["candidates"][0]["content"]["parts"][0]["text"])
    assert set(answer) == {"complexity_reasoning", "complexity_score"} and isinstance(answer["complexity_score"], int)
    main = {"contents": router["contents"], "tools": [{"functionDeclarations": [{"name": "run_shell_command"}]}]}
    _, _, text = post(fm.url + "/v1beta/models/flash:streamGenerateContent?alt=sse", main)
    parts = [p for _, d in sse(text) for p in d["candidates"][0]["content"]["parts"]]
    call = next(p["functionCall"] for p in parts if "functionCall" in p)
    assert call["name"] == "run_shell_command" and call["args"]["command"] == "ls"


def test_scripted_failure_status_and_per_turn_script(fm):
    fm.brain.add(r"^deploy", Reply(fail_status=529), Shell("echo never"))
    status, _, text = post(fm.url + "/v1/messages", {"stream": True, "tools": [{"name": "Bash"}],
                                                     "messages": [{"role": "user", "content": "deploy now"}]})
    assert status == 529 and json.loads(text)["error"]["type"] == "overloaded_error"
    assert fm.brain.decisions[-1]["fail"] == 529


def test_a_stall_goes_quiet_mid_stream_and_the_time_limit_stops_everything(tmp_path):
    brain = Brain()
    brain.add("^hang", Reply(actions=[Say("starting to answer")], stall=120))
    server = FakeModel(brain, max_seconds=2.0).start()
    url = server.url
    t0 = time.monotonic()
    req = urllib.request.Request(url + "/v1/messages", method="POST", data=json.dumps(
        {"stream": True, "tools": [{"name": "Bash"}], "messages": [{"role": "user", "content": "hang"}]}).encode())
    with urllib.request.urlopen(req, timeout=10) as resp:
        first = resp.readline()  # the stream has started ...
        assert first.startswith(b"event: message_start")
        try:
            rest = resp.read()  # ... then nothing until the server's time limit cuts it off
        except http.client.IncompleteRead as exc:
            rest = exc.partial
    assert 1.5 <= time.monotonic() - t0 < 8
    assert b"message_stop" not in rest
    assert server.wait_closed(timeout=10)  # the time limit stopped it, on its own thread
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/v1/models", timeout=2)


def test_chat_completions_with_tools_stream_tool_calls(fm):
    """A tool-calling Chat Completions client (opencode's shape): its own tool and argument names."""
    tools = [{"type": "function", "function": {"name": "write", "parameters": {"properties": {
        "filePath": {"type": "string"}, "content": {"type": "string"}}}}},
             {"type": "function", "function": {"name": "bash", "parameters": {"properties": {}}}}]
    msgs = [{"role": "system", "content": "You are opencode.\n  Working directory: /w/oc\n"},
            {"role": "user", "content": "write c.txt: tool"}]
    _, _, text = post(fm.url + "/v1/chat/completions", {"stream": True, "tools": tools, "messages": msgs})
    events = [d for _, d in sse(text) if d != "[DONE]" and d["choices"]]
    deltas = [d["choices"][0]["delta"] for d in events]
    name = next(t["function"]["name"] for d in deltas for t in d.get("tool_calls", []) if "name" in t["function"])
    args = json.loads("".join(t["function"]["arguments"] for d in deltas for t in d.get("tool_calls", [])))
    assert name == "write" and args == {"filePath": "/w/oc/c.txt", "content": "tool\n"}
    assert events[-1]["choices"][0]["finish_reason"] == "tool_calls"
    msgs += [{"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
                                                                     "function": {"name": "write", "arguments": "{}"}}]},
             {"role": "tool", "tool_call_id": "c1", "content": "Wrote file"}]
    _, _, text = post(fm.url + "/v1/chat/completions", {"stream": True, "tools": tools, "messages": msgs})
    said = "".join(d["choices"][0]["delta"].get("content") or "" for _, d in sse(text) if d != "[DONE]" and d["choices"])
    assert said == "DONE wrote c.txt"
