"""The Deacon: the town's heartbeat and patrol executor.

Each run writes `deacon/heartbeat.json` (Boot reads it) and decides (`decide`):

- every rig has its Witness and Refinery patrol alive in the runner -> else `ensure_patrol`;
- convoys are fed: a tracked bead that is ready (open, unblocked) and unassigned
  is slung to its rig (`sling`), while the rig has fewer hooked polecats than its
  `max_polecats`, at most `feed_per_run` per run;
- a convoy whose tracked beads are all closed but which is still open is landed
  (`land_convoy`); one with nothing tracked is never landed (0/0 is not done);
- a convoy with ready work and no worker on any of it is reported as stranded
  (in `saw`) and fed like any other;
- open escalations not yet routed are routed to the Overseer (`route_escalation`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from gastown_tui.patrols.base import Change, Decision, Patrol, Report, RunContext, Timer
from gastown_tui.patrols.facts import TownFacts

FEED_EVENTS = ("done", "merge_requested", "mr_state", "convoy_created", "convoy_added", "sling", "unhook")


@dataclass
class DeaconSettings:
    feed_per_run: int = 3


def stranded(view: TownFacts) -> list[str]:
    """Open convoys with ready, unassigned work and nobody working on any of their beads."""
    out = []
    for c in view.convoys:
        if c.status == "closed":
            continue
        ready = [t for t in c.tracked if t.ready and not t.assignee]
        working = [t for t in c.tracked if t.assignee and t.status != "closed"]
        if ready and not working:
            out.append(c.id)
    return out


def decide(view: TownFacts, now: float, settings: DeaconSettings | None = None) -> list[Decision]:
    settings = settings or DeaconSettings()
    out: list[Decision] = []
    for rig in view.rigs:
        for role in ("witness", "refinery"):
            name = f"{role}:{rig.name}"
            if name not in view.patrols:
                out.append(Decision("ensure_patrol", name, f"the {role} of rig {rig.name} is not running"))
    busy = {r.name: sum(1 for w in r.workers if w.hook and not w.done) for r in view.rigs}
    limits = {r.name: r.max_polecats for r in view.rigs}
    fed = 0
    slung: set[str] = set()
    for c in view.convoys:
        if c.status == "closed":
            continue
        if c.tracked and all(t.status == "closed" for t in c.tracked):
            out.append(Decision("land_convoy", c.id, f"all {len(c.tracked)} tracked beads of {c.title!r} are closed"))
            continue
        for t in c.tracked:
            if fed >= settings.feed_per_run:
                break
            if not (t.ready and not t.assignee) or t.id in slung or t.rig is None or t.rig not in busy:
                continue
            if busy[t.rig] >= limits[t.rig]:
                continue
            busy[t.rig] += 1
            fed += 1
            slung.add(t.id)
            out.append(Decision("sling", t.rig, f"convoy {c.id} has ready work {t.id} with nobody on it",
                                bead=t.id, detail={"convoy": c.id}))
    for e in view.escalations:
        if not e.routed:
            out.append(Decision("route_escalation", "overseer", f"{e.severity} escalation: {e.title}", bead=e.id))
    return out


def write_heartbeat(town: Path, now: float, cycle: int, last_action: str) -> None:
    """`deacon/heartbeat.json` {timestamp, cycle, last_action} written atomically."""
    from datetime import datetime, timezone

    d = Path(town) / "deacon"
    d.mkdir(parents=True, exist_ok=True)
    data = {"timestamp": datetime.fromtimestamp(now, timezone.utc).isoformat().replace("+00:00", "Z"),
            "unix": now, "cycle": cycle, "last_action": last_action}
    tmp = d / ".heartbeat.json.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
        f.flush()
        import os

        os.fsync(f.fileno())
    tmp.replace(d / "heartbeat.json")


def read_heartbeat(town: Path) -> dict | None:
    try:
        return json.loads((Path(town) / "deacon" / "heartbeat.json").read_text())
    except (FileNotFoundError, ValueError):
        return None


class Deacon(Patrol):
    role = "deacon"
    name = "deacon"

    def __init__(self, town: Path, observer, actions, settings: DeaconSettings | None = None,
                 timer: Timer = Timer(), patrol_names=lambda: set()):
        self.town = Path(town)
        self.observer = observer
        self.actions = actions
        self.settings = settings or DeaconSettings()
        self.timer = timer
        self.patrol_names = patrol_names
        self.cycle = 0

    def concerns(self, change: Change) -> bool:
        if change.kind in ("manual", "config"):
            return True
        if change.kind == "events":
            return any(e.get("type") in FEED_EVENTS for e in change.events)
        return change.kind == "ledger"

    def run(self, ctx: RunContext) -> Report:
        self.cycle += 1
        view = self.observer.town_view(now=ctx.now, patrols=set(self.patrol_names()))
        decisions = decide(view, ctx.now, self.settings)
        for d in decisions:
            self.actions.apply(d, actor="deacon/")
        write_heartbeat(self.town, ctx.now, self.cycle, decisions[-1].kind if decisions else "idle")
        saw = {
            "rigs": [r.name for r in view.rigs],
            "convoys": {c.id: f"{c.closed_count}/{len(c.tracked)}" for c in view.convoys if c.status != "closed"},
            "stranded": stranded(view),
            "escalations": len([e for e in view.escalations if not e.routed]),
        }
        return Report(saw=saw, did=decisions)
