"""The simulated agent's instruction language, parsed from bead descriptions.

A bead (the hooked bead, or a molecule step) tells the simulated agent what to
do with lines that start with ``sim:`` (first attempt) or ``sim[retry]:`` (a
later attempt, after the Refinery sent the work back with FIX_NEEDED). Other
lines are prose and ignored. Leading whitespace before ``sim`` is allowed.

    sim: write PATH          replace PATH (relative to the worktree) with the block below
    sim: append PATH         add the block below to the end of PATH (skipped when
                             PATH already ends with it, so a re-run is harmless)
    sim: run CMD             run CMD with /bin/sh in the worktree; non-zero exit = failure
    sim: commit MESSAGE      ``git add -A`` and ``git commit -m MESSAGE`` (nothing to commit = fine)
    sim: rebase [REF] [--resolve union|target|branch]
                             rebase the branch onto REF (default: the target, ``origin/main``
                             after a fetch when there is an ``origin`` remote, else ``main``);
                             each conflicting hunk is resolved: ``union`` (default) keeps the
                             target's lines then this branch's, ``target`` keeps the target's,
                             ``branch`` keeps this branch's. A branch already pushed to
                             ``origin`` is force-pushed (with lease) afterwards, so that
                             ``gt done`` can push it again
    sim: fail [REASON]       report the failure on screen and stop, leaving the work hooked
    sim: sleep N             work (spinner) for N seconds (decimals allowed)
    sim: hang                stop all output and input handling: the agent looks stuck
    sim: ask QUESTION        wait for approval: shows ``QUESTION (y/n)`` (the needs-approval
                             state) until someone types y or n; n stops like ``fail``

A block for ``write``/``append`` is either a fenced block (a line of three or more
backticks or tildes, optionally with a language, up to the matching closing fence)
or an indented block (the following lines indented deeper than the ``sim:`` line;
blank lines inside are kept). The common indentation is removed and the content
always ends with a newline. A ``write`` with no block is an error (use an empty
fenced block for an empty file).

Which lines run: on a first attempt only the ``sim:`` lines; on a retry the
``sim[retry]:`` lines when the text has any, otherwise the ``sim:`` lines again.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

KINDS = ("write", "append", "run", "commit", "rebase", "fail", "sleep", "hang", "ask")
RESOLVE_STRATEGIES = ("union", "target", "branch")

_LINE = re.compile(r"^(?P<indent>[ \t]*)sim(?:\[(?P<tag>[A-Za-z]+)\])?:[ \t]*(?P<rest>.*)$")
_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[^`]*$")


class SimScriptError(ValueError):
    """An instruction that cannot be understood; the message names the line."""


@dataclass(frozen=True)
class Action:
    """One instruction: what to do, its argument, its content block, where it came from."""

    kind: str
    arg: str = ""
    body: str | None = None
    line: int = 0  # 1-based line number in the source text
    retry: bool = False
    source: str = ""  # e.g. the bead id, for error messages

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.source else f"line {self.line}"

    def describe(self) -> str:
        """A short human description, as shown on the agent's screen."""
        if self.kind in ("write", "append"):
            return f"{self.kind.capitalize()}({self.arg})"
        if self.kind == "run":
            return f"Bash({self.arg})"
        if self.kind == "commit":
            return f"Commit({self.arg})"
        if self.kind == "rebase":
            return f"Rebase({self.arg or 'target'})"
        if self.kind == "ask":
            return f"Ask({self.arg})"
        return f"{self.kind.capitalize()}({self.arg})" if self.arg else self.kind.capitalize()


def _indent_width(text: str) -> int:
    return len(text.expandtabs(4)) - len(text.expandtabs(4).lstrip(" "))


def _dedent(lines: list[str]) -> str:
    expanded = [ln.expandtabs(4) for ln in lines]
    widths = [_indent_width(ln) for ln in expanded if ln.strip()]
    cut = min(widths) if widths else 0
    body = "\n".join(ln[cut:] if ln.strip() else "" for ln in expanded)
    return body.rstrip("\n") + "\n" if body.strip() else ""


def _read_block(lines: list[str], start: int, base_indent: int, where: str) -> tuple[str | None, int]:
    """Reads the content block after line index `start - 1`; returns (content, next index)."""
    i = start
    if i < len(lines) and (m := _FENCE.match(lines[i])):
        fence = m.group("fence")
        j = i + 1
        while j < len(lines):
            stripped = lines[j].strip()
            if stripped.startswith(fence[0] * len(fence)) and set(stripped) <= {fence[0]}:
                return _dedent(lines[i + 1 : j]), j + 1
            j += 1
        raise SimScriptError(f"{where}: the fenced block opened here has no closing {fence}")
    block: list[str] = []
    j = i
    while j < len(lines):
        line = lines[j]
        if line.strip() and _indent_width(line) <= base_indent:
            break
        block.append(line)
        j += 1
    while block and not block[-1].strip():
        block.pop()
        j -= 1
    if not block:
        return None, start
    return _dedent(block), j


def _parse_one(kind: str, arg: str, where: str) -> str:
    """Validates an instruction's argument; returns it normalised."""
    if kind in ("write", "append"):
        if not arg:
            raise SimScriptError(f"{where}: `sim: {kind}` needs a PATH")
        if arg.startswith("/") or ".." in arg.replace("\\", "/").split("/"):
            raise SimScriptError(f"{where}: PATH {arg!r} must stay inside the worktree (relative, no '..')")
    elif kind == "run" and not arg:
        raise SimScriptError(f"{where}: `sim: run` needs a command")
    elif kind == "commit" and not arg:
        raise SimScriptError(f"{where}: `sim: commit` needs a message")
    elif kind == "sleep":
        try:
            seconds = float(arg)
        except ValueError:
            raise SimScriptError(f"{where}: `sim: sleep` needs a number of seconds, got {arg!r}") from None
        if not 0 <= seconds <= 3600:
            raise SimScriptError(f"{where}: `sim: sleep {arg}` is out of range (0..3600 seconds)")
    elif kind == "rebase":
        parse_rebase_arg(arg, where)
    elif kind == "ask" and not arg:
        raise SimScriptError(f"{where}: `sim: ask` needs a question")
    elif kind == "hang" and arg:
        raise SimScriptError(f"{where}: `sim: hang` takes no argument, got {arg!r}")
    return arg


def parse_rebase_arg(arg: str, where: str = "") -> tuple[str | None, str]:
    """`[REF] [--resolve STRATEGY]` -> (ref or None, strategy)."""
    try:
        words = shlex.split(arg)
    except ValueError as exc:
        raise SimScriptError(f"{where}: cannot read `sim: rebase {arg}`: {exc}") from None
    ref, strategy = None, "union"
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--resolve" or word.startswith("--resolve="):
            value = word.split("=", 1)[1] if "=" in word else (words[i + 1] if i + 1 < len(words) else "")
            i += 1 if "=" in word else 2
            if value not in RESOLVE_STRATEGIES:
                raise SimScriptError(
                    f"{where}: unknown conflict strategy {value!r} (use one of: {', '.join(RESOLVE_STRATEGIES)})"
                )
            strategy = value
            continue
        if ref is not None or word.startswith("-"):
            raise SimScriptError(f"{where}: unexpected {word!r} in `sim: rebase {arg}`")
        ref = word
        i += 1
    return ref, strategy


def parse_instructions(text: str, source: str = "") -> list[Action]:
    """Every `sim:` and `sim[retry]:` instruction in `text`, in order.

    Raises SimScriptError naming the source and line for anything malformed.
    """
    lines = (text or "").splitlines()
    actions: list[Action] = []
    i = 0
    while i < len(lines):
        m = _LINE.match(lines[i])
        if not m:
            i += 1
            continue
        lineno = i + 1
        where = f"{source}:{lineno}" if source else f"line {lineno}"
        tag = m.group("tag")
        if tag is not None and tag != "retry":
            raise SimScriptError(f"{where}: unknown tag sim[{tag}] (only sim[retry] exists)")
        rest = m.group("rest").strip()
        kind, _, arg = rest.partition(" ")
        kind, arg = kind.strip().lower(), arg.strip()
        if kind not in KINDS:
            raise SimScriptError(f"{where}: unknown instruction {kind or '(empty)'!r} (known: {', '.join(KINDS)})")
        arg = _parse_one(kind, arg, where)
        body = None
        i += 1
        if kind in ("write", "append"):
            body, i = _read_block(lines, i, _indent_width(m.group("indent")), where)
            if body is None:
                raise SimScriptError(f"{where}: `sim: {kind} {arg}` has no content block below it")
        actions.append(Action(kind, arg, body, lineno, tag == "retry", source))
    return actions


def select_actions(actions: list[Action], retry: bool) -> list[Action]:
    """The actions to run for a first attempt or a retry (see the module docstring)."""
    if retry and any(a.retry for a in actions):
        return [a for a in actions if a.retry]
    return [a for a in actions if not a.retry]
