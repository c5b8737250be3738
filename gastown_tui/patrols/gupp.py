"""GUPP — "if there is work on your hook, you run it".

For every polecat with work on its hook (not yet submitted):

- no session at all -> `start` one, whose start-up beacon tells it to run
  `gt prime` and begin the work on its hook;
- its session sits idle (the prompt is waiting, nothing on screen changing) for
  `idle_after` seconds -> `nudge` it (once per idle spell) to check its hook;
  after `max_nudges` for the same bead it keeps going idle (e.g. its work fails
  every time) -> `escalate` to the Overseer, once.

A polecat whose session is gone after its work was submitted is not restarted:
it is done unless the Refinery puts work back on its hook.
"""
from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from gastown_tui.patrols.base import Change, Decision, Patrol, Report, RunContext, Timer
from gastown_tui.patrols.facts import RigFacts, same_moment
from gastown_tui.town.rigs import list_rigs

NUDGE = "GUPP: work is on your hook ({bead}). Run `gt prime` and do it now."


def beacon(address: str, rig: str | None, sender: str, now: float, topic: str = "assigned") -> str:
    """Gas Town's start-up beacon (reference/gastown.md §4.2)."""
    role, _, name = address.rpartition("/")
    who = f"polecat {name} (rig: {rig})" if "/polecats/" in address else address
    stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M")
    return f"[GAS TOWN] {who} <- {sender} • {stamp} • {topic}\n\nRun `gt prime --hook` and begin work on your hook."


@dataclass
class GuppMemory:
    nudged: dict[str, float] = field(default_factory=dict)  # address -> last_change_at when nudged
    started: dict[str, float] = field(default_factory=dict)  # "address:bead" -> when a start was last asked for
    nudges: dict[str, int] = field(default_factory=dict)  # "address:bead" -> nudges so far
    escalated: set[str] = field(default_factory=set)


@dataclass
class GuppSettings:
    idle_after: float = 60.0
    start_cooldown: float = 30.0  # do not ask twice for the same start within this
    max_nudges: int = 3  # per agent and bead; then the Overseer is told instead


def decide(rigs: list[RigFacts], now: float, memory: GuppMemory, settings: GuppSettings | None = None) -> list[Decision]:
    st = settings or GuppSettings()
    out = []
    for rig in rigs:
        if not rig.sessions_known:
            continue
        for w in rig.workers:
            if not w.hook or w.done:
                continue
            s = w.session
            if s is None:
                key = f"{w.address}:{w.hook}"  # per bead: a reaped polecat's name may come back with new work
                if now - memory.started.get(key, -1e18) < st.start_cooldown:
                    continue
                memory.started[key] = now
                out.append(Decision("start", w.address, f"{w.address} has {w.hook} on its hook and no session",
                                    bead=w.hook, detail={"beacon": beacon(w.address, w.rig, "gupp", now)}))
            elif s.alive and s.state == "idle" and now - s.last_change_at >= st.idle_after \
                    and not same_moment(memory.nudged.get(w.address), s.last_change_at):
                memory.nudged[w.address] = s.last_change_at
                key = f"{w.address}:{w.hook}"
                count = memory.nudges.get(key, 0)
                if count >= st.max_nudges:
                    if key not in memory.escalated:
                        memory.escalated.add(key)
                        out.append(Decision("escalate", "overseer", f"{w.address} keeps going idle with {w.hook} on "
                                            f"its hook after {count} nudges", bead=w.hook,
                                            detail={"agent": w.address, "why": "gupp"}))
                    continue
                memory.nudges[key] = count + 1
                out.append(Decision("nudge", w.address, f"{w.address} is idle with {w.hook} on its hook",
                                    bead=w.hook, detail={"message": NUDGE.format(bead=w.hook), "attempt": count + 1}))
    return out


START_THREADS = 8  # session starts GUPP waits on at once


def start_side_by_side(apply: Callable[..., object], starts: list[Decision], actor: str) -> None:
    """Applies each start in a thread of its own, with the run's context (the run waits for them all): a slow
    one (a node across a slow or broken link, a program slow to come up: up to a session action's 60 s)
    holds up none of the others. A start only reads the town on this side; the session starts on the loop."""
    if len(starts) < 2:
        for d in starts:
            apply(d, actor=actor)
        return
    with ThreadPoolExecutor(max_workers=min(START_THREADS, len(starts)), thread_name_prefix="gupp-start") as pool:
        running = [pool.submit(contextvars.copy_context().run, apply, d, actor=actor) for d in starts]
        for future in running:
            future.result()


def next_due(rigs: list[RigFacts], now: float, settings: GuppSettings | None = None) -> float | None:
    """Seconds until an idle agent with work on its hook has been idle for `idle_after`."""
    st = settings or GuppSettings()
    waits = [st.idle_after - (now - w.session.last_change_at) for r in rigs if r.sessions_known for w in r.workers
             if w.hook and not w.done and w.session and w.session.alive and w.session.state == "idle"]
    waits = [x for x in waits if x > 0]
    return min(waits) if waits else None


class Gupp(Patrol):
    role = "gupp"
    name = "gupp"

    def __init__(self, observer, actions, settings: GuppSettings | None = None, timer: Timer = Timer(30, 300)):
        self.observer = observer
        self.actions = actions
        self.settings = settings or GuppSettings()
        self.timer = timer
        self.memory = GuppMemory()

    def concerns(self, change: Change) -> bool:
        if change.kind == "session":  # a session went idle or away: see whether work waits on its hook
            return any(e.get("type") == "SessionExited" or e.get("state") in ("idle", "exited") for e in change.events)
        return change.kind in ("ledger", "manual")

    def run(self, ctx: RunContext) -> Report:
        rigs = [self.observer.rig_view(r.name, now=ctx.now) for r in list_rigs(self.observer.town)]
        decisions = decide(rigs, ctx.now, self.memory, self.settings)
        for d in decisions:
            if d.kind != "start":
                self.actions.apply(d, actor="gupp")
        start_side_by_side(self.actions.apply, [d for d in decisions if d.kind == "start"], actor="gupp")
        hooked = [w.address for r in rigs for w in r.workers if w.hook and not w.done]
        return Report(saw={"hooked": hooked}, did=decisions, next_in=next_due(rigs, ctx.now, self.settings))
