"""The budget patrol: checks the town's budgets and, once a breaker trips, stops the polecats in its scope
at the end of their current turn.

Always runs (budgets set while the town runs take effect at once). With no budgets set a run reads the
settings and stops there, and it wakes only on its timer and on config changes; with budgets it also wakes
on a session's state change (a turn ended). Each run evaluates
the budgets (town/budget.py: spend from the agents' own usage records; warnings and trips are logged,
escalated and persisted there). For every tripped budget, each live polecat session in its scope is
stopped politely once it is idle — a session still working is left to finish its turn (the next state
change wakes this patrol again); it is never killed mid-edit. Its hook, branch and worktree stay, and no
new session is started for it while the breaker is tripped (patrols/actions.py refuses the start).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gastown_tui.patrols.base import Change, Decision, Patrol, Report, RunContext, Timer
from gastown_tui.town.budget import evaluate, in_scope, load_budgets
from gastown_tui.town.events import append_event


@dataclass
class BudgetMemory:
    stopped: set[str] = field(default_factory=set)      # session ids already stopped for a budget


class BudgetPatrol(Patrol):
    role = "budget"
    name = "budget"

    def __init__(self, town, sessions, actions, timer: Timer = Timer(5, 60)):
        self.town = town
        self.sessions = sessions
        self.actions = actions
        self.timer = timer
        self.memory = BudgetMemory()
        self.has_budgets = True     # until a run has read the settings

    def concerns(self, change: Change) -> bool:
        if change.kind == "session":
            return self.has_budgets     # no budgets: a turn ending changes nothing here
        return change.kind in ("config", "manual")

    def run(self, ctx: RunContext) -> Report:
        self.has_budgets = True     # a bad entry raises here: this run fails saying why, and is tried again
        budgets = load_budgets(self.town)
        self.has_budgets = bool(budgets)
        if not budgets:
            return Report(saw={"budgets": 0})
        statuses = evaluate(self.town, now=ctx.now)
        tripped = [st for st in statuses if st.state == "tripped"]
        did: list[Decision] = []
        waiting = []
        for st in tripped:
            for session in list(self.sessions.sessions()) if self.sessions is not None else []:
                address = session.agent
                if "/polecats/" not in address or not session.alive or session.id in self.memory.stopped:
                    continue
                if not in_scope(self.town, address, st.budget.id):
                    continue
                state = getattr(session.state, "value", str(session.state))
                if state != "idle":
                    waiting.append(address)         # mid-turn: stopped when it is idle, never before
                    continue
                d = Decision("stop_session", address,
                             f"budget {st.budget.scope} tripped ({st.budget.fmt(st.spent)} of "
                             f"{st.budget.fmt(st.budget.limit)}): {address} stopped at the end of its turn; "
                             "its hook and worktree stay", detail={"budget": st.budget.id, "session": session.id})
                self.actions.apply(d, actor="budget")
                if d.done:
                    self.memory.stopped.add(session.id)
                    append_event(self.town.events_path, "budget_stopped", "budget", agent=address,
                                 session=session.id, budget=st.budget.id)
                did.append(d)
        return Report(saw={"budgets": [st.to_json() for st in statuses], "waiting": waiting}, did=did,
                      next_in=1.0 if waiting else None)
