"""Reaping finished polecats, as the Witness does it, for `gastown polecat reap` (no session manager here).

The Witness proposes a polecat for reaping when it ran `gt done`, has nothing on
its hook and no open merge request (`witness.finished`), and carries it out with
`Actions.do_reap` (checks in git, stops its session, `town.polecats.reap_polecat`).
The command does the same with the same functions; where the Witness asks its
session manager whether the polecat's session is busy, the command reads the
sessions recorded under `.runtime/sessions/` and refuses while one is still
running (another process, e.g. the app, owns it: let its Witness reap).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gastown_tui.town.layout import Town
from gastown_tui.patrols.actions import Actions, live_session_elsewhere
from gastown_tui.patrols.base import Decision
from gastown_tui.patrols.observe import Observer
from gastown_tui.patrols.witness import finished
from gastown_tui.town.addresses import rig_worker
from gastown_tui.town.polecats import reap_blockers
from gastown_tui.town.rigs import get_rig, list_rigs


@dataclass
class ReapOutcome:
    address: str
    reaped: bool = False
    refused: list[str] = field(default_factory=list)
    would_reap: bool = False  # dry run: nothing refuses it

    def to_dict(self) -> dict:
        return {"address": self.address, "reaped": self.reaped, "would_reap": self.would_reap,
                "refused": self.refused}


def not_finished(w) -> str | None:
    """Why the Witness would not propose this polecat (a WorkerFacts) for reaping, or None."""
    if finished(w):
        return None
    if w.hook:
        return f"work on its hook: {w.hook}"
    if w.open_mrs:
        return f"{w.open_mrs} open merge request(s)"
    return f"it has not finished its work with `gt done` (agent state {w.agent_state or 'unknown'})"


def reap_rig(town: Town, rig: str | None = None, dry_run: bool = False, actor: str = "overseer") -> list[ReapOutcome]:
    """Reaps (or, with DRY_RUN, checks) every polecat of RIG (every rig when None) the way the Witness does."""
    rigs = [get_rig(town, rig).name] if rig else [r.name for r in list_rigs(town)]
    observer = Observer(town)
    actions = Actions(town)
    out = []
    for name in rigs:
        for w in observer.rig_view(name).workers:
            result = ReapOutcome(w.address)
            out.append(result)
            why = not_finished(w)
            if why:
                result.refused = [why]
                continue
            if dry_run:
                rig_name, name = rig_worker(w.address)
                result.refused = reap_blockers(town, rig_name, name)
                live = live_session_elsewhere(town, w.address)
                if live:
                    result.refused.append(live)
                result.would_reap = not result.refused
                continue
            d = actions.apply(Decision("reap", w.address, "gastown polecat reap", detail={"branch": w.branch}),
                              actor=actor)
            result.reaped = d.done
            if not d.done:
                result.refused = list(d.detail.get("refused") or [d.detail.get("error", "refused")])
    return out
