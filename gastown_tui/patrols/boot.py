"""Boot: the Deacon's watchdog. Every 5 minutes it reads `deacon/heartbeat.json`.

- fresh (younger than `stale_after`) -> nothing;
- stale -> `wake_deacon` (the runner runs the Deacon now: Gas Town's nudge);
- very stale, missing past the start-up grace, or the Deacon's patrol is not
  alive in the runner -> `restart_deacon` (a fresh Deacon patrol replaces it).

The thresholds are relative to the Deacon's own backoff: an idle Deacon runs
at least every `timer.max` seconds, so its heartbeat is never older than that
when it is healthy.
"""
from __future__ import annotations

from dataclasses import dataclass

from gastown_tui.patrols.base import Decision, Patrol, Report, RunContext, Timer
from gastown_tui.patrols.deacon import read_heartbeat


@dataclass
class BootSettings:
    stale_after: float = 10 * 60
    very_stale_after: float = 20 * 60
    grace: float = 5 * 60  # after the runner starts, a missing heartbeat is not yet a problem


def decide(heartbeat: dict | None, deacon_alive: bool, now: float, started_at: float,
           settings: BootSettings | None = None) -> list[Decision]:
    st = settings or BootSettings()
    if not deacon_alive:
        return [Decision("restart_deacon", "deacon/", "the Deacon's patrol is not running")]
    if heartbeat is None:
        if now - started_at >= st.grace:
            return [Decision("restart_deacon", "deacon/", f"no Deacon heartbeat {st.grace / 60:.0f} min after start")]
        return []
    age = now - float(heartbeat.get("unix", 0))
    if age >= st.very_stale_after:
        return [Decision("restart_deacon", "deacon/", f"Deacon heartbeat is {age / 60:.0f} min old")]
    if age >= st.stale_after:
        return [Decision("wake_deacon", "deacon/", f"Deacon heartbeat is {age / 60:.0f} min old")]
    return []


class Boot(Patrol):
    role = "boot"
    name = "boot"

    def __init__(self, town, actions, deacon_alive, settings: BootSettings | None = None,
                 timer: Timer = Timer(300, 300), started_at: float | None = None):
        import time

        self.town = town
        self.actions = actions
        self.deacon_alive = deacon_alive  # () -> bool
        self.settings = settings or BootSettings()
        self.timer = timer
        self.started_at = started_at if started_at is not None else time.time()

    def concerns(self, change) -> bool:
        return change.kind == "manual"

    def run(self, ctx: RunContext) -> Report:
        hb = read_heartbeat(self.town.root)
        decisions = decide(hb, self.deacon_alive(), ctx.now, self.started_at, self.settings)
        for d in decisions:
            self.actions.apply(d, actor="boot")
        age = None if hb is None else round(ctx.now - float(hb.get("unix", 0)), 1)
        return Report(saw={"heartbeat_age": age, "cycle": (hb or {}).get("cycle")}, did=decisions)
