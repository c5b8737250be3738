"""The fake model's "brain": decides, per request, what the model answers.

The decision does not depend on the wire protocol. Each protocol module turns a
request into a `Conversation` (the last human prompt, how many tool calls the
model has made since that prompt, the latest tool results, the working
directory) and renders the `Reply` the brain returns in its own format.

A test scripts the brain with `Rule`s: a regular expression searched in the
prompt, and a list of steps, one per model turn. Turn N is the model's N-th
answer to that prompt (0 = first), counted as tool calls made since the prompt.
Past the last step the model says `DONE`. Unmatched prompts fall through to the
built-in rules of reference/agent-clis.md §5 (`write F: TEXT`, `run: CMD`,
`run!: CMD`, `sleep N ...`, `stall N`, `fail STATUS`, otherwise `ECHO: ...`).
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Callable, Union


# ---- what the model can do in one answer -------------------------------------------


@dataclass(frozen=True)
class Say:
    """Plain text (ends the turn)."""

    text: str


@dataclass(frozen=True)
class Shell:
    """Run a shell command (Claude `Bash`, Codex `exec_command`, Gemini `run_shell_command`,
    aider a ```bash block). `escalate` asks Codex for sandbox escalation (its approval dialog)."""

    command: str
    escalate: bool = False


@dataclass(frozen=True)
class Write:
    """Create or overwrite a file (path relative to the agent's working directory)."""

    path: str
    content: str


Action = Union[Say, Shell, Write]


@dataclass
class Reply:
    """One model answer: text and/or tool calls, with timing and failure knobs."""

    actions: list[Action] = field(default_factory=list)
    delay: float = 0.0  # seconds before the first byte
    stall: float = 0.0  # seconds of silence after the stream has started
    fail_status: int = 0  # answer with this HTTP status and the protocol's error JSON
    fail_message: str = "fake model: scripted failure"

    @property
    def tool_calls(self) -> list[Action]:
        return [a for a in self.actions if not isinstance(a, Say)]

    @property
    def text(self) -> str:
        return "".join(a.text for a in self.actions if isinstance(a, Say))


@dataclass
class Conversation:
    """What a protocol module extracted from one request."""

    protocol: str  # anthropic | responses | chat | gemini
    prompt: str  # the last human prompt ("" when there is none)
    turn: int  # tool calls the model made since that prompt
    tool_results: list[str] = field(default_factory=list)  # results sent back for the last calls
    cwd: str | None = None  # the agent's working directory, from its system prompt
    has_tools: bool = True  # False for side requests (titles, commit messages)
    json_schema: dict | None = None  # the answer must satisfy this schema
    system: str = ""
    user_texts: list[str] = field(default_factory=list)  # every human text in the conversation


Step = Union[Action, Reply, list, Callable[[Conversation], Union[Action, Reply, list]]]


@dataclass
class Rule:
    """When `pattern` is found in the prompt, answer turn N with `steps[N]`."""

    pattern: str
    steps: list[Step]
    flags: int = re.S

    def matches(self, prompt: str) -> bool:
        return re.search(self.pattern, prompt, self.flags) is not None


def as_reply(step: Step, conv: Conversation) -> Reply:
    if callable(step) and not isinstance(step, (Say, Shell, Write, Reply)):
        step = step(conv)
    if isinstance(step, Reply):
        return step
    if isinstance(step, list):
        return Reply(actions=list(step))
    return Reply(actions=[step])


# ---- the brain ----------------------------------------------------------------------


class Brain:
    """Scripted rules first, then the built-in ones. Thread-safe; records every decision."""

    def __init__(self, rules: list[Rule] | None = None):
        self.rules: list[Rule] = list(rules or [])
        self._lock = threading.Lock()
        self.decisions: list[dict] = []

    def add(self, pattern: str, *steps: Step) -> Rule:
        rule = Rule(pattern, list(steps))
        with self._lock:
            self.rules.insert(0, rule)  # later rules win
        return rule

    def decide(self, conv: Conversation) -> Reply:
        if conv.json_schema is not None:
            reply = Reply(actions=[Say(schema_value_json(conv.json_schema))])
            kind = "schema"
        elif not conv.has_tools:
            reply = Reply(actions=[Say(side_text(conv))])
            kind = "side"
        else:
            reply, kind = self._scripted(conv)
        with self._lock:
            self.decisions.append(
                {"protocol": conv.protocol, "prompt": conv.prompt, "turn": conv.turn, "kind": kind,
                 "actions": [repr(a) for a in reply.actions], "stall": reply.stall,
                 "fail": reply.fail_status}
            )
        return reply

    def _scripted(self, conv: Conversation) -> tuple[Reply, str]:
        with self._lock:
            rules = list(self.rules)
        for rule in rules:
            if rule.matches(conv.prompt):
                if conv.turn < len(rule.steps):
                    return as_reply(rule.steps[conv.turn], conv), f"rule:{rule.pattern}"
                return Reply(actions=[Say(f"DONE {first_line(conv.prompt)[:60]}")]), f"rule-done:{rule.pattern}"
        return builtin_reply(conv), "builtin"


# ---- built-in behaviour (reference/agent-clis.md §5) ---------------------------------

_SLEEP = re.compile(r"^sleep (\d+(?:\.\d+)?)\s*(.*)$", re.S)
_STALL = re.compile(r"^stall (\d+(?:\.\d+)?)")
_FAIL = re.compile(r"^fail (\d{3})")
_WRITE = re.compile(r"^write (\S+): (.*)$", re.S)
_RUN = re.compile(r"^run(!?): (.*)$", re.S)


def builtin_reply(conv: Conversation) -> Reply:
    prompt = conv.prompt.strip()
    delay = 0.0
    if m := _SLEEP.match(prompt):
        delay, prompt = min(float(m.group(1)), 120.0), m.group(2).strip()
    if m := _STALL.match(prompt):
        if conv.turn == 0:
            return Reply(actions=[Say("Thinking about it")], stall=min(float(m.group(1)), 300.0))
        return Reply(actions=[Say("DONE stalled")])
    if m := _FAIL.match(prompt):
        return Reply(fail_status=int(m.group(1)))
    if m := _WRITE.match(prompt):
        if conv.turn == 0:
            return Reply(actions=[Say(f"I'll create {m.group(1)}."), Write(m.group(1), m.group(2).strip() + "\n")], delay=delay)
        return Reply(actions=[Say(f"DONE wrote {m.group(1)}")])
    if m := _RUN.match(prompt):
        cmd = m.group(2).strip()
        if conv.turn == 0:
            return Reply(actions=[Say("Running it."), Shell(cmd, escalate=bool(m.group(1)))], delay=delay)
        out = first_line(conv.tool_results[-1]) if conv.tool_results else ""
        return Reply(actions=[Say(f"DONE ran {cmd} output: {out}")])
    return Reply(actions=[Say(f"ECHO: {first_line(prompt)[:200]}")], delay=delay)


def first_line(text: str) -> str:
    """The first non-empty line that is not Codex's `Chunk ID:`/`Wall time:` framing."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    skip = ("Chunk ID:", "Wall time:", "Process exited", "Original token count", "Output:")
    for ln in lines:
        if ln.startswith("Output:") and ln[7:].strip():
            return ln[7:].strip()
        if not ln.startswith(skip) and not re.fullmatch(r"</?[A-Za-z_][\w-]*>", ln):
            return ln
    return lines[0] if lines else ""


def side_text(conv: Conversation) -> str:
    """Answers for requests without tools: commit messages, titles, summaries."""
    low = conv.system.lower() + "\n" + conv.prompt.lower()
    if "commit message" in low:
        return "Apply fake-model edits"
    if "title" in low:
        return "Fake session"
    return "Fake summary"


def schema_value(schema: dict):
    """A minimal value satisfying a (simple) JSON schema; Gemini's types are upper case."""
    kind = str(schema.get("type", "object")).lower()
    if "enum" in schema and schema["enum"]:
        return schema["enum"][0]
    if kind == "object":
        props = schema.get("properties", {})
        return {k: ("Fake session" if k == "title" else schema_value(v)) for k, v in props.items()}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return False
    return "fake"


def schema_value_json(schema: dict) -> str:
    import json

    return json.dumps(schema_value(schema))
