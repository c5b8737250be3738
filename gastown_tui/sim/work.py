"""The simulated agent's work loop: prime, run the hook's instructions, work the molecule, `gt done`.

1. `gt prime --json`. Nothing hooked: say so and go idle.
2. Retry or first attempt? A retry is when this agent's mail holds a FIX_NEEDED
   message naming the hooked bead (the Refinery sends one when it puts work back
   on the hook), or when GT_SIM_RETRY=1.
3. The hooked bead's own instructions (see sim.script) are the task: they run when
   no step of the molecule is closed yet, or on a retry, before the steps.
4. Then each ready step in turn: its instructions, then `gt mol done STEP --json`,
   whose answer names the next step (a fresh `gt prime` when it does not).
5. `gt done` submits the work.
Any failure stops the loop and leaves the work on the hook.

GT_SIM_PACE=SECONDS makes the agent pause that long after each action and step,
so a person can watch it work (the demo sets it when it opens the app).
"""
from __future__ import annotations

import os
import time
from typing import Callable, Protocol

from gastown_tui.sim.actions import SimFailure, SimInterrupted, Workspace
from gastown_tui.sim.script import SimScriptError, parse_instructions, select_actions
from gastown_tui.sim.town import Prime, Town, TownError, fix_needed_mail


class Reporter(Protocol):
    def log(self, text: str, style: str = "") -> None: ...
    def activity(self, text: str) -> None: ...


def _hook_id(hook: dict) -> str:
    return str(hook.get("id") or "")


def is_retry(town: Town, hook: dict, report: Reporter) -> bool:
    if os.environ.get("GT_SIM_RETRY") == "1":
        report.log("GT_SIM_RETRY=1: treating this as a retry", "dim")
        return True
    try:
        mails = fix_needed_mail(town.inbox(), _hook_id(hook))
    except TownError as exc:
        report.log(f"could not read mail ({exc}); assuming a first attempt", "warn")
        return False
    for msg in mails:
        report.log(f"Mail: {msg.get('subject') or msg.get('title')}", "warn")
    return bool(mails)


def pace_seconds() -> float:
    """GT_SIM_PACE as seconds (0 when unset); a bad value is an error naming it. The Mayor uses
    GT_SIM_MAYOR_PACE when set (it files and slings; a slow-paced demo need not wait on it)."""
    name = "GT_SIM_PACE"
    if os.environ.get("GT_ROLE") == "mayor" and os.environ.get("GT_SIM_MAYOR_PACE", "").strip():
        name = "GT_SIM_MAYOR_PACE"
    raw = os.environ.get(name, "").strip()
    if not raw:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise SimFailure(f"{name} must be a number of seconds, got {raw!r}") from None
    return max(0.0, value)


def pause(ws: Workspace) -> None:
    """Waits GT_SIM_PACE seconds, or less if the agent is interrupted."""
    end = time.monotonic() + pace_seconds()
    while time.monotonic() < end and not ws.stop():
        time.sleep(min(0.05, max(0.0, end - time.monotonic())))


def run_actions(text: str, source: str, retry: bool, ws: Workspace, report: Reporter) -> int:
    """Runs the instructions in `text`; returns how many ran."""
    try:
        actions = select_actions(parse_instructions(text, source), retry)
    except SimScriptError as exc:
        raise SimFailure(f"bad instruction: {exc}") from None
    for action in actions:
        report.activity(action.describe())
        report.log(f"⏺ {action.describe()}", "tool")
        ws.run(action)
        pause(ws)
    return len(actions)


def work_hook(town: Town, ws: Workspace, report: Reporter, stop: Callable[[], bool] = lambda: False) -> str:
    """Does the hooked work; returns a one-line outcome. Raises SimFailure / SimHang / SimInterrupted."""
    report.activity("Reading my hook (gt prime)")
    report.log("⏺ Bash(gt prime --json)", "tool")
    try:
        prime = town.prime()
    except TownError as exc:
        raise SimFailure(str(exc)) from None
    hook = prime.hook
    if not hook:
        report.log("  ⎿ nothing on my hook — waiting for work", "dim")
        return ""
    hook_id = _hook_id(hook)
    report.log(f"  ⎿ hooked: {hook_id} {hook.get('title', '')}", "dim")
    if prime.ralph and prime.ralph.get("text"):     # a Ralph step: which attempt this is, and the last failure
        for line in str(prime.ralph["text"]).splitlines()[:6]:
            report.log(f"  ⎿ {line}", "warn")
    retry = is_retry(town, hook, report)
    if retry:
        report.log(f"This is a retry of {hook_id}: following the sim[retry] instructions", "warn")
    closed_any = any(s.status == "closed" for s in prime.steps)
    if retry or not closed_any:
        run_actions(hook.get("description") or "", hook_id, retry, ws, report)
    elif prime.steps:
        report.log("  ⎿ the hook's task was done by an earlier session; continuing the molecule", "dim")
    seen: set[str] = set()
    while prime.next_step:
        step_id = prime.next_step
        if step_id in seen:
            raise SimFailure(f"step {step_id} is still open after `gt mol done {step_id}`")
        seen.add(step_id)
        step = prime.step(step_id)
        title = step.title if step else ""
        n = len([s for s in prime.steps if s.status == "closed"]) + 1
        report.log(f"Step {n}/{len(prime.steps)}: {step_id} {title}", "step")
        if step is not None:
            run_actions(step.description, step_id, retry, ws, report)
        pause(ws)
        if stop():
            raise SimInterrupted()
        report.activity(f"Closing step {step_id}")
        report.log(f"⏺ Bash(gt mol done {step_id})", "tool")
        try:
            answer = town.mol_done(step_id)
            if step is not None:
                step.status = "closed"
            nxt = answer.get("next_step")
            if "next_step" in answer and (nxt is None or prime.step(nxt) is not None):
                prime.next_step = nxt  # the answer names the next step: no need to prime again
            else:
                prime = town.prime()
        except TownError as exc:
            raise SimFailure(str(exc)) from None
    open_steps = [s.id for s in prime.steps if s.status != "closed"]
    if open_steps:
        raise SimFailure(f"molecule steps still open but none ready: {', '.join(open_steps)}")
    if prime.role not in ("polecat", ""):
        # The Mayor (or crew) does not submit to a merge queue: its hooked work ends when it closes the bead.
        report.activity(f"Closing {hook_id}")
        report.log(f"⏺ Bash(bd close {hook_id})", "tool")
        try:
            town.close(hook_id, f"done by {prime.agent or prime.role}")
        except TownError as exc:
            raise SimFailure(str(exc)) from None
        return f"closed {hook_id}"
    report.activity("Submitting (gt done)")
    report.log("⏺ Bash(gt done)", "tool")
    try:
        out = town.done()
    except TownError as exc:
        raise SimFailure(str(exc)) from None
    for line in out.splitlines()[-4:]:
        report.log(f"  ⎿ {line}", "dim")
    return f"submitted {hook_id}"


def describe_prime(prime: Prime) -> str:
    hook = prime.hook or {}
    return f"{prime.agent} hook={_hook_id(hook) or '-'} steps={len(prime.steps)} next={prime.next_step or '-'}"
