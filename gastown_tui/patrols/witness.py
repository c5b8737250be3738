"""The Witness: one per rig, watches the polecats. Restart-first, as in Gas Town.

Rules (`decide`), for each polecat with work on its hook:

- its session's process has died and the work is not yet submitted -> `restart`
  (GUPP: the new session finds its hook); after `max_restarts` for the same bead
  -> `escalate` to the Overseer instead (a polecat with no session at all is
  GUPP's to start, see gupp.py);
- working (or stuck) with no screen change for `stalled_after` (15 min) -> `nudge`
  (once per quiet spell); for `hung_after` (30 min) -> `restart`;
- waiting at an approval prompt for `stalled_after` -> `escalate` (a person must answer);
- finished (`gt done` ran): its merge request is checked: open -> `check_mr`
  (wakes the Refinery, once per MR); none -> `escalate`.

A polecat that ran `gt done` (agent state `done`), with nothing on its hook, no open
merge request, and a session that has exited or sits idle, is proposed for reaping
(`reap`): the action (actions.py) checks in git that every commit of its branch is on
the target (patch identity) and the worktree is clean, stops the session, removes the
worktree, the branch and the agent bead's hook, and frees the name
(`town.polecats.reap_polecat`). A refused reap (unmerged commits, uncommitted changes,
work hooked meanwhile) changes nothing and is retried after `reap_retry`.
Any other polecat with nothing on its hook whose session has sat idle for
`retire_after` (15 min) has its session stopped (`stop_session`); its worktree and
branch stay. Nothing with unmerged work is ever removed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gastown_tui.patrols.base import Change, Decision, Patrol, Report, RunContext, Timer
from gastown_tui.patrols.facts import RigFacts, WorkerFacts, same_moment

WORKING = ("working", "stuck", "starting")


@dataclass
class WitnessThresholds:
    stalled_after: float = 15 * 60
    hung_after: float = 30 * 60
    spawn_grace: float = 60.0  # a session younger than this is left alone
    max_restarts: int = 3  # per bead, then escalate
    retire_after: float = 15 * 60  # a polecat with nothing on its hook, idle this long: its session is stopped
    reap_retry: float = 5 * 60  # a refused reap is proposed again after this long
    reap_wait: float = 10.0  # a finished polecat whose session is still busy: look again this soon


@dataclass
class WitnessMemory:
    """What the Witness remembers between runs (in memory; losing it only means one repeated nudge)."""

    nudged: dict[str, float] = field(default_factory=dict)  # address -> last_change_at when nudged
    escalated: set[str] = field(default_factory=set)  # "address:bead:why"
    restarts: dict[str, int] = field(default_factory=dict)  # bead -> restarts so far
    mr_checked: set[str] = field(default_factory=set)
    reap_refused: dict[str, float] = field(default_factory=dict)  # address -> when a reap was last refused


def next_due(rig: RigFacts, now: float, th: WitnessThresholds | None = None) -> float | None:
    """Seconds until the next threshold a watched session will cross (None: nothing pending)."""
    th = th or WitnessThresholds()
    waits = []
    for w in rig.workers:
        s = w.session
        if s is None or not s.alive or not rig.sessions_known:
            continue
        quiet = now - s.last_change_at
        if w.hook and not w.done and s.state in WORKING + ("needs-approval",):
            marks: tuple[float, ...] = (th.stalled_after, th.hung_after, th.spawn_grace - (now - s.started_at) + quiet)
        elif reapable(w, rig) and s.state != "idle":
            waits.append(th.reap_wait)
            continue
        elif not w.hook and s.state == "idle":
            marks = (th.retire_after,)
        else:
            continue
        waits += [m - quiet for m in marks if m - quiet > 0]
    return min(waits) if waits else None


def finished(w: WorkerFacts) -> bool:
    """Ran `gt done`, nothing hooked, no open MR (also what `gastown polecat reap` requires)."""
    return w.hook is None and w.agent_state == "done" and not w.open_mrs


def reapable(w: WorkerFacts, rig: RigFacts) -> bool:
    """Finished (`gt done`), nothing hooked, no open MR, and sessions are known here."""
    return rig.sessions_known and finished(w)


def decide(rig: RigFacts, now: float, memory: WitnessMemory, th: WitnessThresholds | None = None) -> list[Decision]:
    th = th or WitnessThresholds()
    out: list[Decision] = []
    for w in rig.workers:
        if w.hook is None:
            s = w.session
            if reapable(w, rig) and (s is None or not s.alive or s.state == "idle"):
                refused = memory.reap_refused.get(w.address)
                if refused is None or now - refused >= th.reap_retry:
                    out.append(Decision("reap", w.address, f"{w.address} finished its work and its merge request "
                                        "is closed: reaping it if every commit is on the target",
                                        detail={"branch": w.branch}))
                continue
            if rig.sessions_known and s is not None and s.alive and s.state == "idle" \
                    and now - s.last_change_at >= th.retire_after:
                out.append(Decision("stop_session", w.address, f"{w.address} has nothing on its hook and has been "
                                    f"idle {(now - s.last_change_at) / 60:.0f} min: retiring its session "
                                    "(worktree and branch stay)"))
            continue
        d = _decide_worker(w, now, memory, th, rig.sessions_known)
        if d is not None:
            out.append(d)
    return out


def _escalate_once(w: WorkerFacts, memory: WitnessMemory, why: str, reason: str) -> Decision | None:
    key = f"{w.address}:{w.hook}:{why}"
    if key in memory.escalated:
        return None
    memory.escalated.add(key)
    return Decision("escalate", "overseer", reason, bead=w.hook, detail={"agent": w.address, "why": why})


def _restart(w: WorkerFacts, memory: WitnessMemory, th: WitnessThresholds, reason: str, why: str) -> Decision | None:
    count = memory.restarts.get(w.hook or "", 0)
    if count >= th.max_restarts:
        return _escalate_once(w, memory, "restarts", f"{w.address} was restarted {count} times on {w.hook} and is "
                              f"still not making progress ({reason})")
    memory.restarts[w.hook or ""] = count + 1
    memory.nudged.pop(w.address, None)
    return Decision("restart", w.address, reason, bead=w.hook, detail={"why": why, "attempt": count + 1})


def _decide_worker(w: WorkerFacts, now: float, memory: WitnessMemory, th: WitnessThresholds,
                   sessions_known: bool = True) -> Decision | None:
    s = w.session
    if w.done:
        if w.mr:
            if w.mr in memory.mr_checked:
                return None
            memory.mr_checked.add(w.mr)
            return Decision("check_mr", f"{w.rig}/refinery", f"{w.address} finished {w.hook}; merge request "
                            f"{w.mr} is {w.mr_state or 'queued'}", bead=w.mr, detail={"agent": w.address})
        return _escalate_once(w, memory, "no-mr", f"{w.address} finished {w.hook} but there is no merge request for it")
    if not sessions_known or s is None:
        return None  # never started: GUPP starts sessions for hooked agents
    if not s.alive:
        return _restart(w, memory, th, f"{w.address} process exited ({s.state_rule or 'exit'}) with {w.hook} "
                        "on its hook", "dead")
    if now - s.started_at < th.spawn_grace:
        return None
    quiet = now - s.last_change_at
    if s.state == "needs-approval" and quiet >= th.stalled_after:
        return _escalate_once(w, memory, f"approval@{s.last_change_at}", f"{w.address} has waited at an approval "
                              f"prompt for {quiet / 60:.0f} min")
    if s.state not in WORKING:
        return None
    if quiet >= th.hung_after:
        return _restart(w, memory, th, f"{w.address} hung: no screen change for {quiet / 60:.0f} min", "hung")
    if quiet >= th.stalled_after and not same_moment(memory.nudged.get(w.address), s.last_change_at):
        memory.nudged[w.address] = s.last_change_at
        return Decision("nudge", w.address, f"{w.address} stalled: no screen change for {quiet / 60:.0f} min",
                        bead=w.hook, detail={"message": "Witness check: you look stalled. Continue the work on your "
                                             "hook (gt prime shows it); if you are blocked, say so with gt escalate."})
    return None


class Witness(Patrol):
    """The per-rig patrol: observes the rig (see observe.py), decides, and acts through the `actions` object."""

    role = "witness"

    def __init__(self, rig: str, observer, actions, thresholds: WitnessThresholds | None = None,
                 timer: Timer = Timer()):
        self.rig = rig
        self.name = f"witness:{rig}"
        self.observer = observer
        self.actions = actions
        self.thresholds = thresholds or WitnessThresholds()
        self.timer = timer
        self.memory = WitnessMemory()

    def concerns(self, change: Change) -> bool:
        if change.kind in ("ledger", "manual"):
            return True
        if change.kind == "session":  # deaths and trouble now; quiet spells come due through next_in
            return any(e.get("rig") == self.rig and (e.get("type") == "SessionExited" or e.get("state") in
                                                      ("exited", "stuck", "needs-approval"))
                       for e in change.events)
        return False

    def run(self, ctx: RunContext) -> Report:
        view = self.observer.rig_view(self.rig, now=ctx.now)
        decisions = decide(view, ctx.now, self.memory, self.thresholds)
        for d in decisions:
            self.actions.apply(d, actor=f"{self.rig}/witness")
            if d.kind == "reap":
                if d.done:
                    self.memory.reap_refused.pop(d.target, None)
                    self.memory.nudged.pop(d.target, None)
                elif d.detail.get("retry") == "soon":  # only its session was busy: look again shortly
                    self.memory.reap_refused[d.target] = ctx.now - self.thresholds.reap_retry + self.thresholds.reap_wait
                else:
                    self.memory.reap_refused[d.target] = ctx.now
        saw = {
            "polecats": len(view.workers),
            "hooked": sum(1 for w in view.workers if w.hook),
            "states": {w.address: (w.session.state if w.session else "no-session") for w in view.workers if w.hook},
        }
        return Report(saw=saw, did=decisions, next_in=self._next_in(view, ctx.now))

    def _next_in(self, view: RigFacts, now: float) -> float | None:
        """The next threshold, or the next retry of a refused reap, whichever comes first."""
        waits = [next_due(view, now, self.thresholds)]
        for w in view.workers:
            refused = self.memory.reap_refused.get(w.address)
            if refused is not None and reapable(w, view):
                waits.append(max(1.0, refused + self.thresholds.reap_retry - now))
        known = [x for x in waits if x is not None]
        return min(known) if known else None
