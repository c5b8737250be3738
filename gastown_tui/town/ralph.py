"""Ralph loops on molecule steps: a step closes only when its acceptance check passes.

A Ralph step carries `metadata.ralph = {check, max_attempts, timeout}` (from the
formula's `ralph = {...}`, or `gastown sling --ralph` for every step) and, as it
is worked, `metadata.ralph.attempts`: one record per check that ran
(`n`, `at`, `exit`, `passed`, `timed_out`, `seconds`, `tail`, `session`).

When the polecat closes such a step (`gt mol done`), `check_before_close` runs
the check in the polecat's worktree (a subprocess in its own process group,
killed as a group on timeout; the `gt` process runs it, never a server's event
loop):

- passed: the attempt is recorded and the step may close;
- failed, attempts left: the attempt is recorded, a `ralph_attempt` event is
  logged and the session is marked for replacement (a handoff marker with
  `reason: ralph`); the running town's handoff patrol stops the session (its
  transcript stays for `gt seance`) and starts a fresh one whose start-up prompt
  names the attempt and shows the last failure. `gt mol done` fails, saying so;
- failed, none left: the step is escalated to the Overseer with every attempt's
  failure (`ralph_exhausted` event); the step stays open and the work stays on
  the hook until a person raises `max_attempts` (`gastown ralph raise`).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from gastown_tui.beads.fields import parse_fields, set_fields
from gastown_tui.errors import UserError
from gastown_tui.meow.molecule import molecule_root, step_records_of, uses_wisps
from gastown_tui.meow.ralph import DEFAULT_ATTEMPTS, DEFAULT_TIMEOUT, RalphSpec
from gastown_tui.town.addresses import agent_key
from gastown_tui.town.agents import workdir
from gastown_tui.town.events import append_event, now_ts
from gastown_tui.town.handoff import pending_handoff
from gastown_tui.town.jsonfile import write_json
from gastown_tui.town.layout import NoTown, Town, find_town
from gastown_tui.town.ledgers import ledger_for_id, town_ledger
from gastown_tui.town.mail import send_mail
from gastown_tui.town.nudges import enqueue
from gastown_tui.town.ralph_check import CheckResult, run_check
from gastown_tui.town.ralph_status import (
    attempts_of,
    describe,
    exit_text,
    failures_of,
    hook_line,
    ralph_data,
    spec_of,
    status_line,
)

if TYPE_CHECKING:
    from gastown_tui.beads.ledger import Ledger

__all__ = ["CheckResult", "RalphCheckFailed", "apply_to_molecule", "attempts_of", "check_before_close",
           "check_done_allowed", "describe", "failures_of", "hook_line", "raise_attempts", "ralph_data",
           "run_check", "show", "spec_of", "status_line"]

class RalphCheckFailed(UserError):
    """`gt mol done` on a Ralph step whose check failed: the step stays open."""



# -- the gate on `gt mol done` ------------------------------------------------------------------------
def _town(env: Mapping[str, str] | None = None) -> Town | None:
    try:
        return find_town(env=env)
    except NoTown:
        return None


def _worker(town: Town | None, ledger: Ledger, step_id: str) -> tuple[str | None, str | None, Path | None]:
    """(the bead worked on, the agent it is hooked to, that agent's worktree)."""
    root = molecule_root(ledger, step_id)
    work_id = parse_fields(root.get("description")).get("attached_to")
    work = ledger.raw_find(work_id) if work_id else None
    agent = (work or {}).get("assignee")
    wd = None
    if town is not None and agent:
        try:
            wd = workdir(town, agent)
        except (KeyError, ValueError, UserError):
            wd = None
    return work_id, agent, wd


def check_before_close(ledger: Ledger, step_id: str, actor: str | None = None, cwd: Path | None = None,
                       env: dict | None = None) -> CheckResult | None:
    """The Ralph gate on closing STEP_ID: None for an ordinary step, the passing check's result for a
    Ralph step whose check passed; RalphCheckFailed (the step stays open) when it failed."""
    rec = ledger.raw(step_id)
    spec = spec_of(rec)
    if spec is None or rec.get("status") == "closed":
        return None
    env = dict(os.environ if env is None else env)
    town = _town(env)
    work_id, agent, wd = _worker(town, ledger, step_id)
    fails = failures_of(rec)
    if len(fails) >= spec.max_attempts:
        raise RalphCheckFailed(
            f"step {step_id} used all {spec.max_attempts} Ralph attempts and is escalated to the Overseer; "
            f"it stays open until a person raises max_attempts (`gastown ralph raise {step_id} --max-attempts N`)")
    session = env.get("GT_SESSION_ID")
    if town is not None and agent and session and _replacement_pending(town, agent, session):
        raise RalphCheckFailed(f"this session's Ralph attempt on {step_id} is over (its check failed); a fresh "
                               "session takes the next attempt. Stop here.")
    where = wd if wd is not None and wd.is_dir() else Path(cwd or Path.cwd())
    result = run_check(spec.check, where, spec.timeout, env=env)
    n = len(fails) + 1
    attempt = {"n": n, "at": _now(), "exit": result.exit, "passed": result.passed, "timed_out": result.timed_out,
               "seconds": round(result.seconds, 3), "tail": result.output, "session": env.get("GT_SESSION_ID"),
               "agent": agent or env.get("GT_AGENT")}
    rec = _record_attempt(ledger, step_id, attempt)
    if town is not None:
        append_event(town.events_path, "ralph_attempt", actor or agent or "unknown", step=step_id, bead=work_id,
                     agent=agent, attempt=n, max_attempts=spec.max_attempts, passed=result.passed,
                     exit=result.exit, timed_out=result.timed_out, tail=result.output[-300:])
    if result.passed:
        return result
    if n >= spec.max_attempts:
        esc = _escalate(town, ledger, rec, spec, work_id, agent)
        raise RalphCheckFailed(
            f"Ralph check failed on attempt {n} of {spec.max_attempts} ({exit_text(attempt)}); no attempts left: "
            f"step {step_id} is escalated to the Overseer{f' as {esc}' if esc else ''} and the work stays on the hook."
            f"\n{result.output}")
    replaced = False
    if town is not None and agent:
        replaced = _ask_for_fresh_session(town, agent, step_id, work_id, rec, spec, env.get("GT_SESSION_ID"))
    then = ("this session ends; a fresh session takes attempt "
            f"{n + 1} of {spec.max_attempts}" if replaced else f"try again (attempt {n + 1} of {spec.max_attempts})")
    raise RalphCheckFailed(f"Ralph check failed on attempt {n} of {spec.max_attempts} ({exit_text(attempt)}): "
                           f"step {step_id} stays open; {then}.\n{result.output}")


def _now() -> str:
    return now_ts()


def _record_attempt(ledger: Ledger, step_id: str, attempt: dict) -> dict:
    with ledger.transaction():
        rec = ledger.raw(step_id)
        meta = dict(rec.get("metadata") or {})
        data = dict(meta.get("ralph") or {})
        data["attempts"] = [*(data.get("attempts") or []), attempt]
        meta["ralph"] = data
        ledger.update(step_id, metadata=meta)
        return ledger.raw(step_id)


def _set(ledger: Ledger, step_id: str, **values: object) -> dict:
    with ledger.transaction():
        rec = ledger.raw(step_id)
        meta = dict(rec.get("metadata") or {})
        meta["ralph"] = {**(meta.get("ralph") or {}), **values}
        ledger.update(step_id, metadata=meta)
        return ledger.raw(step_id)


def fresh_session_prompt(rec: dict) -> str:
    """The lines a Ralph successor's start-up prompt adds: which attempt, and the last failure."""
    spec = spec_of(rec)
    fails = failures_of(rec)
    if spec is None or not fails:
        return ""
    last = fails[-1]
    goal = (rec.get("acceptance_criteria") or "").strip()
    lines = [f"Ralph attempt {len(fails) + 1} of {spec.max_attempts} on step {rec['id']} (a fresh context).",
             f"The acceptance check `{spec.check}` failed on attempt {last.get('n')} ({exit_text(last)}):",
             *(f"    {ln}" for ln in (last.get("tail") or "(no output)").splitlines()[-8:])]
    if goal:
        lines.append(f"Goal: {goal}")
    return "\n".join(lines)


def _replacement_pending(town: Town, agent: str, session: str) -> bool:
    """Whether SESSION of AGENT already failed its Ralph attempt and waits to be replaced (one attempt per
    context: a second `gt mol done` in the same session is not another attempt)."""
    try:
        marker = pending_handoff(town, agent)
    except UserError:
        return False
    return isinstance(marker, dict) and marker.get("reason") == "ralph" and marker.get("session_id") == session


def _ask_for_fresh_session(town: Town, agent: str, step_id: str, work_id: str | None, rec: dict, spec: RalphSpec,
                           session_id: str | None) -> bool:
    """Writes the handoff marker the running town's handoff patrol acts on (no cooldown: Ralph's replacement
    is the point). The predecessor's transcript stays for `gt seance`."""
    fails = failures_of(rec)
    marker = {"address": agent, "requested_at": _now(), "note": fresh_session_prompt(rec), "mail_id": None,
              "session_id": session_id, "hook": work_id, "reason": "ralph", "step": step_id,
              "attempt": len(fails) + 1, "max_attempts": spec.max_attempts}
    write_json(town.runtime / "handoffs" / f"{agent_key(agent)}.json", marker)
    return True


def _escalate(town: Town | None, ledger: Ledger, rec: dict, spec: RalphSpec, work_id: str | None,
              agent: str | None) -> str | None:
    fails = failures_of(rec)
    lines = [f"Step {rec['id']} ({rec.get('title', '')}) of {work_id or '?'} failed its Ralph check "
             f"`{spec.check}` on all {spec.max_attempts} attempts. The work stays on {agent or 'its'} hook.",
             f"Raise the limit to let it go on: gastown ralph raise {rec['id']} --max-attempts N", ""]
    for a in fails:
        lines += [f"Attempt {a.get('n')} at {a.get('at')} ({exit_text(a)}, session {a.get('session') or '-'}):",
                  *(f"    {ln}" for ln in (a.get("tail") or "(no output)").splitlines()), ""]
    esc = None
    if town is not None:
        esc = _file_escalation(town, f"Ralph step {rec['id']} exhausted {spec.max_attempts} attempts",
                               "\n".join(lines), source=agent or "ralph", related=work_id)
        append_event(town.events_path, "ralph_exhausted", agent or "ralph", step=rec["id"], bead=work_id,
                     agent=agent, attempts=len(fails), escalation=esc)
    _set(ledger, rec["id"], escalation=esc, escalated_at=_now())
    return esc


def _file_escalation(town: Town, title: str, text: str, source: str, related: str | None) -> str:
    """An escalation bead in the town ledger with Gas Town's fields (the shape patrols/escalate.py files),
    routed at once: mailed to the Overseer, labelled `routed`."""
    desc = set_fields(text.rstrip() + "\n\n", severity="high", reason=text.splitlines()[0][:200], source=source,
                      escalated_by=source, escalated_at=_now(), related_bead=related)
    issue = town_ledger(town).create(f"ESCALATION: {title}", issue_type="task", priority=1,
                                     labels=["gt:escalation", "severity:high", "routed"], description=desc,
                                     actor=source)
    send_mail(town, source, "overseer", f"ESCALATION: {title}",
              f"Escalation: {issue.id}\nSeverity: high\nSource: {source}\nRelated: {related or '-'}\n\n{text}",
              type="escalation", priority=1)
    return issue.id


# -- a person raises the limit ------------------------------------------------------------------------
def raise_attempts(town: Town, step_or_bead: str, max_attempts: int | None = None, by: int = 1,
                   actor: str = "overseer") -> list[dict]:
    """Raises max_attempts of the Ralph step(s) of STEP_OR_BEAD (a step, or the hooked bead: every Ralph step
    of its molecule that used up its attempts). Returns [{step, old, new}]. The agent is nudged to go on."""
    ledger = ledger_for_id(town, step_or_bead)
    targets = _ralph_steps(ledger, step_or_bead)
    if not targets:
        raise UserError(f"{step_or_bead} is not a Ralph step, nor a bead whose molecule has one")
    changed = []
    for rec in targets:
        spec = spec_of(rec)
        if spec is None:        # _ralph_steps keeps only steps with a spec
            raise UserError(f"{rec['id']} is not a Ralph step")
        fails = len(failures_of(rec))
        if len(targets) > 1 and fails < spec.max_attempts:
            continue
        new = max_attempts if max_attempts is not None else max(spec.max_attempts, fails) + by
        if new <= fails:
            raise UserError(f"{rec['id']} already failed {fails} attempt(s); max_attempts must be more than that, "
                            f"got {new}")
        _set(ledger, rec["id"], max_attempts=new, escalation=None, escalated_at=None)
        changed.append({"step": rec["id"], "old": spec.max_attempts, "new": new})
        _, agent, _ = _worker(town, ledger, rec["id"])
        append_event(town.events_path, "ralph_raised", actor, step=rec["id"], agent=agent, old=spec.max_attempts,
                     new=new)
        if agent:
            _nudge(town, agent, f"The Overseer raised Ralph max_attempts of {rec['id']} to {new}: "
                                f"run `gt prime` and try the step again.", actor)
    if not changed:
        raise UserError(f"no Ralph step of {step_or_bead} has used up its attempts; pass a step id to raise it anyway")
    return changed


def _nudge(town: Town, agent: str, text: str, actor: str) -> None:
    try:
        enqueue(town.runtime / "nudge_queue", agent, text, sender=actor)
    except OSError:
        pass   # the raise itself is done; the agent finds it on its next `gt prime`


def _ralph_steps(ledger: Ledger, bead_id: str) -> list[dict]:
    rec = ledger.raw(bead_id)
    if spec_of(rec) is not None:
        return [rec]
    try:
        root = molecule_root(ledger, bead_id)
    except UserError:
        return []
    return [r for r in step_records_of(ledger, root["id"], uses_wisps(root)) if spec_of(r) is not None]


def check_done_allowed(town: Town, bead_id: str) -> None:
    """`gt done` is refused while a Ralph step of the bead's molecule is open: the work is submitted only
    once every check passed (an exhausted step waits for a person; the work stays on the hook)."""
    try:
        steps = _ralph_steps(ledger_for_id(town, bead_id), bead_id)
    except UserError:
        return
    open_steps = [r for r in steps if r.get("status") != "closed"]
    if open_steps:
        rec = open_steps[0]
        raise RalphCheckFailed(f"refusing `done`: Ralph step {rec['id']} is still open ({describe(rec).splitlines()[0]}); "
                               f"close it with `gt mol done {rec['id']}` once its check passes")


# -- `gastown sling --ralph` ---------------------------------------------------------------------------
def apply_to_molecule(ledger: Ledger, root_id: str, check: str | None, max_attempts: int | None,
                      timeout: float | None = None, default_check: str | None = None) -> list[str]:
    """Makes every open step of the molecule a Ralph step (a step's own spec keeps what is not given).
    The check is CHECK, else the step's own, else DEFAULT_CHECK (the rig's gate); none at all is refused."""
    changed = []
    with ledger.transaction():
        root = ledger.raw(root_id)
        for rec in step_records_of(ledger, root_id, uses_wisps(root)):
            if rec.get("status") == "closed":
                continue
            own = spec_of(rec)
            cmd = check or (own.check if own else None) or default_check
            if not cmd:
                raise UserError(f"--ralph needs a check: step {rec['id']} has none and the rig has no gate; "
                                "pass --check CMD")
            spec = RalphSpec(cmd, max_attempts or (own.max_attempts if own else DEFAULT_ATTEMPTS),
                             timeout or (own.timeout if own else DEFAULT_TIMEOUT))
            meta = dict(rec.get("metadata") or {})
            meta["ralph"] = {**(meta.get("ralph") or {}), **spec.to_json()}
            ledger.update(rec["id"], metadata=meta)
            changed.append(rec["id"])
    return changed



def successor_topic(marker: dict) -> str:
    """The start-up beacon's topic for a Ralph successor: `ralph attempt K of N`."""
    return f"ralph attempt {marker.get('attempt')} of {marker.get('max_attempts')}"


def with_failure(beacon_text: str, marker: dict) -> str:
    """The start-up prompt of a Ralph successor: the beacon with the last failure (the marker's note) put
    between its first line and the instruction to prime."""
    head, _, rest = beacon_text.partition("\n\n")
    note = (marker.get("note") or "").strip()
    return f"{head}\n\n{note}\n\n{rest}" if note else beacon_text


def show(town: Town, step_or_bead: str) -> list[dict]:
    """Every Ralph step of STEP_OR_BEAD: its status line plus every attempt (for `gastown ralph show`)."""
    ledger = ledger_for_id(town, step_or_bead)
    steps = _ralph_steps(ledger, step_or_bead)
    if not steps:
        raise UserError(f"{step_or_bead} is not a Ralph step, nor a bead whose molecule has one")
    out = []
    for rec in steps:
        line = status_line(rec)
        if line is None:        # _ralph_steps keeps only steps with a spec
            raise UserError(f"{rec['id']} is not a Ralph step")
        out.append({**line, "attempts": attempts_of(rec), "status": rec.get("status")})
    return out


def app_raise_attempts(town_root: str | Path, step_or_bead: str, by: int = 1) -> str:
    """The app's "raise Ralph attempts" action (a palette/keys entry for the focused agent's hook):
    one more attempt for its exhausted Ralph step(s); returns the line to show in a toast."""
    changed = raise_attempts(Town(Path(town_root)), step_or_bead, by=by, actor="overseer")
    return "; ".join(f"{c['step']}: Ralph max_attempts {c['old']} → {c['new']}" for c in changed)
