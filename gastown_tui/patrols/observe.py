"""Gathers the patrols' facts (facts.py) from the town's ledgers and the session manager.

One read of each ledger per view; no git, no processes. `sessions` is the
session manager (or None when nothing runs agents here: then `sessions_known`
is False and the Witness leaves liveness alone).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from gastown_tui.beads.fields import parse_fields
from gastown_tui.sessions.clock import monotonic_to_wall
from gastown_tui.patrols.facts import (ConvoyFacts, EscalationFacts, RigFacts, SessionFacts, TownFacts, TrackedFacts,
                                       WorkerFacts)
from gastown_tui.town.layout import Town
from gastown_tui.town.convoys import list_convoys
from gastown_tui.town.ledgers import open_ledger, ledger_for_id, town_ledger
from gastown_tui.town.mq import list_mrs
from gastown_tui.town.polecats import list_polecats
from gastown_tui.town.rigs import get_rig, list_rigs

log = logging.getLogger(__name__)

OPEN_MR_STATES = ("queued", "rebasing", "testing", "conflict", "failed")


def session_view(session) -> SessionFacts | None:
    """A SessionFacts of a sessions.Session (None for None)."""
    if session is None:
        return None
    state = getattr(session.state, "value", str(session.state))
    alive = session.exit_status is None and state != "exited"
    started = session.started_at or time.time()                     # wall clock (sessions/clock.py)
    changed = monotonic_to_wall(session.last_screen_change_at)       # monotonic
    return SessionFacts(alive=alive, state=state, started_at=started, last_change_at=changed or started,
                       session_id=getattr(session, "id", ""), state_rule=getattr(session, "state_rule", "") or "")


class Observer:
    def __init__(self, town: Town, sessions=None):
        self.town = town if isinstance(town, Town) else Town(Path(town))
        self.sessions = sessions

    # ---------------------------------------------------------------- helpers
    def session_of(self, address: str):
        if self.sessions is None:
            return None
        return self.sessions.get(address)

    def open_mrs(self, rig: str | None = None) -> list:
        return list_mrs(self.town, rig=rig, states=list(OPEN_MR_STATES))

    # ---------------------------------------------------------------- rig
    def rig_view(self, rig_name: str, now: float | None = None) -> RigFacts:
        rig = get_rig(self.town, rig_name)
        ledger = open_ledger(rig.beads_dir)
        open_mrs = self.open_mrs(rig_name)
        mrs = {m.source_bead: m for m in open_mrs}
        view = RigFacts(rig_name, max_polecats=int(rig.settings.data.get("max_polecats", 10)),
                       sessions_known=self.sessions is not None)
        for cat in list_polecats(self.town, rig_name):
            w = WorkerFacts(address=cat.address, rig=rig_name, branch=cat.branch, agent_state=cat.agent_state,
                           open_mrs=sum(1 for m in open_mrs if m.polecat == cat.address))
            hooked = ledger.list(status="hooked", assignee=cat.address)
            working = [i for i in ledger.list(status="in_progress", assignee=cat.address)]
            if hooked:
                w.hook, w.hook_title = hooked[0].id, hooked[0].title
            elif working:
                bead = working[0]
                w.hook, w.hook_title = bead.id, bead.title
                mr = mrs.get(bead.id)
                w.done = bool(mr) or bool(parse_fields(bead.description or "").get("mr_id"))
            if w.hook and w.hook in mrs:
                w.mr, w.mr_state = mrs[w.hook].id, mrs[w.hook].state
            w.session = session_view(self.session_of(cat.address))
            view.workers.append(w)
        return view

    # ---------------------------------------------------------------- town
    def town_view(self, now: float | None = None, patrols: set[str] | None = None) -> TownFacts:
        rigs = list_rigs(self.town)
        prefixes = {r.prefix: r.name for r in rigs}
        view = TownFacts(patrols=set(patrols or ()))
        for rig in rigs:
            view.rigs.append(self.rig_view(rig.name, now))
        for c in list_convoys(self.town):
            if c.status == "closed":
                continue
            cv = ConvoyFacts(c.id, c.title, c.status)
            for t in c.tracked:
                rig_name = prefixes.get(t.bead_id.split("-", 1)[0])
                ready = False
                if t.status == "open" and not t.assignee:
                    try:
                        ready = not ledger_for_id(self.town, t.bead_id).is_blocked(t.bead_id)
                    except Exception as exc:  # shown as not ready; the reason goes to the log
                        log.warning("convoy %s: cannot tell whether %s is blocked: %s", c.id, t.bead_id, exc)
                        ready = False
                cv.tracked.append(TrackedFacts(t.bead_id, rig_name, t.status, t.assignee, ready))
            view.convoys.append(cv)
        ledger = town_ledger(self.town)
        for issue in ledger.list(label="gt:escalation"):
            fields = parse_fields(issue.description or "")
            view.escalations.append(EscalationFacts(issue.id, issue.title, fields.get("severity", "medium"),
                                                   fields.get("source", ""), "routed" in (issue.labels or [])))
        return view
