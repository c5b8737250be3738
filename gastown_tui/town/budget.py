"""Budgets and the breaker: a limit on tokens or money per town, rig or convoy, per day or in total.

settings/config.json:

    "budgets": [
      {"scope": "town", "tokens": 2000000, "period": "day"},
      {"scope": "rig:textkit", "usd": 25},                      # period "total" by default
      {"scope": "convoy:hq-cv-abc", "tokens": 500000}
    ]

Spend comes from the cost book (gastown_tui/costs): the agents' own usage records. A `usd` budget counts
priced calls only and says how many tokens had no price. Crossing 80% warns (a `budget_warning` event and
an escalation in Needs you); crossing 100% trips the breaker: the state is written to
`.runtime/budget/state.json` (so it survives a restart), a `budget_tripped` event is logged, the Overseer is
told what tripped and by how much, no new sling, spawn or session start in that scope is allowed
(`refusal`), and the budget patrol asks each running polecat in scope to stop at the end of its current
turn (it stops a session only once it is idle: never mid-edit; hook and worktree stay).
`gastown budget raise SCOPE ...` (a higher limit, written to the settings) or `reset` (count from now)
resumes: the trip is cleared.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gastown_tui.beads.fields import parse_fields, set_fields
from gastown_tui.costs.book import Entry, book_for
from gastown_tui.costs.report import day_of, today_start
from gastown_tui.errors import UserError
from gastown_tui.filelock import file_lock
from gastown_tui.town.addresses import parse_address
from gastown_tui.town.convoys import convoys_tracking
from gastown_tui.town.events import append_event, now_ts
from gastown_tui.town.hooks import hooked_record
from gastown_tui.town.jsonfile import read_json, write_json
from gastown_tui.town.layout import Town
from gastown_tui.town.ledgers import town_ledger
from gastown_tui.town.mail import send_mail

WARN_AT = 0.8
UNITS = ("tokens", "usd")
PERIODS = ("day", "total")


@dataclass(frozen=True)
class Budget:
    scope: str          # town | rig:NAME | convoy:ID
    unit: str           # tokens | usd
    limit: float
    period: str = "total"

    @property
    def id(self) -> str:
        return f"{self.scope}/{self.unit}/{self.period}"

    def covers(self, rig: str | None = None, convoy: str | None = None) -> bool:
        kind, _, name = self.scope.partition(":")
        return kind == "town" or (kind == "rig" and rig == name) or (kind == "convoy" and convoy == name)

    def fmt(self, amount: float) -> str:
        return f"${amount:,.2f}" if self.unit == "usd" else f"{int(amount):,} tokens"


def _settings_path(town: Town) -> Path:
    return town.settings_path


def load_budgets(town: Town) -> list[Budget]:
    """The town's budgets; UserError naming the file and the entry for a bad one."""
    path = _settings_path(town)
    data = read_json(path, default={}) or {}
    items = data.get("budgets") or []
    if not isinstance(items, list):
        raise UserError(f"{path}: budgets must be a list of {{\"scope\", \"tokens\" or \"usd\", \"period\"}}")
    out = []
    for n, item in enumerate(items):
        where = f"{path}: budgets[{n}]"
        if not isinstance(item, dict):
            raise UserError(f"{where}: must be an object")
        scope = item.get("scope", "town")
        kind, _, name = str(scope).partition(":")
        if kind not in ("town", "rig", "convoy") or (kind != "town" and not name):
            raise UserError(f"{where}: scope must be town, rig:NAME or convoy:ID, got {scope!r}")
        units = [u for u in UNITS if u in item]
        if len(units) != 1:
            raise UserError(f"{where}: give exactly one limit, tokens or usd")
        limit = item[units[0]]
        if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit <= 0:
            raise UserError(f"{where}: {units[0]} must be a positive number, got {limit!r}")
        period = item.get("period", "total")
        if period not in PERIODS:
            raise UserError(f"{where}: period must be day or total, got {period!r}")
        out.append(Budget(scope, units[0], float(limit), period))
    return out


# -- persisted state ---------------------------------------------------------------------------------------
def _state_path(town: Town) -> Path:
    return town.runtime / "budget" / "state.json"


def load_state(town: Town) -> dict:
    path = _state_path(town)
    try:
        data = read_json(path, default={}) or {}
    except UserError:
        return {}       # an unreadable state file is rebuilt from the records on the next check
    return data if isinstance(data, dict) else {}


def _save_state(town: Town, state: dict) -> None:
    write_json(_state_path(town), state)


# -- spend ---------------------------------------------------------------------------------------------------
@dataclass
class Status:
    budget: Budget
    spent: float
    unpriced_tokens: int
    state: str          # ok | warned | tripped
    since: float | None

    @property
    def ratio(self) -> float:
        return self.spent / self.budget.limit

    def to_json(self) -> dict:
        b = self.budget
        return {"id": b.id, "scope": b.scope, "unit": b.unit, "period": b.period, "limit": b.limit,
                "spent": round(self.spent, 6), "percent": round(100 * self.ratio, 1), "state": self.state,
                "unpriced_tokens": self.unpriced_tokens, "since": self.since}

    def line(self) -> str:
        b = self.budget
        extra = f" (+{self.unpriced_tokens:,} tokens price unknown)" if b.unit == "usd" and self.unpriced_tokens else ""
        return (f"{b.scope} {b.period}: {b.fmt(self.spent)} of {b.fmt(b.limit)} ({100 * self.ratio:.0f}%){extra}"
                f" — {self.state}")


def _spend(entries: Iterable[Entry], budget: Budget, since: float | None) -> tuple[float, int]:
    spent, unpriced = 0.0, 0
    for e in entries:
        if since is not None and e.usage.ts < since:
            continue
        if not budget.covers(e.rig, e.convoy):
            continue
        if budget.unit == "tokens":
            spent += e.usage.tokens
        elif e.usd is None:
            unpriced += e.usage.tokens
        else:
            spent += e.usd
    return spent, unpriced


def _since(budget: Budget, entry: dict, now: float) -> float | None:
    reset = entry.get("reset_at")
    start = today_start(now) if budget.period == "day" else None
    if isinstance(reset, (int, float)):
        start = max(start or reset, reset)
    return start


def evaluate(town: Town, now: float | None = None, entries: list[Entry] | None = None) -> list[Status]:
    """Every budget's spend, with the warnings and trips this brings (logged, escalated, persisted once)."""
    budgets = load_budgets(town)
    if not budgets:
        return []
    now = time.time() if now is None else now
    if entries is None:
        entries, _ = book_for(town.root).entries()

    out = []
    with file_lock(town.runtime / "budget" / ".lock", what="budget lock"):
        state = load_state(town)
        changed = False
        for b in budgets:
            entry = dict(state.get(b.id) or {})
            since = _since(b, entry, now)
            spent, unpriced = _spend(entries, b, since)
            ratio = spent / b.limit
            was = entry.get("state", "ok")
            if b.period == "day" and entry.get("day") and entry["day"] != _day(now) and was != "tripped":
                was = "ok"          # a new day: the daily count starts again (a trip stays until a person acts)
            new = "tripped" if ratio >= 1 or was == "tripped" else ("warned" if ratio >= WARN_AT else "ok")
            st = Status(b, spent, unpriced, new, since)
            if new != was:
                entry.update(state=new, changed_at=now, day=_day(now), spent=spent, limit=b.limit)
                _announce(town, st, was)
                changed = True
            elif new != "tripped":
                entry.update(spent=spent)
            state[b.id] = entry
            out.append(st)
        if changed or set(state) - {b.id for b in budgets}:
            state = {k: v for k, v in state.items() if k in {b.id for b in budgets}}
            _save_state(town, state)
    return out


def _day(ts: float) -> str:
    return day_of(ts)


def _announce(town: Town, st: Status, was: str) -> None:
    b = st.budget
    if st.state == "tripped":
        over = st.spent - b.limit
        text = (f"Budget {b.scope} ({b.period}) tripped: {b.fmt(st.spent)} spent of {b.fmt(b.limit)}, "
                f"{b.fmt(max(over, 0))} over. No new slings, spawns or session starts in {b.scope}; running "
                f"polecats there stop at the end of their current turn (hooks and worktrees stay).\n"
                f"Resume: gastown budget raise {b.scope} --to N  (or: gastown budget reset {b.scope})")
        append_event(town.events_path, "budget_tripped", "budget", budget=b.id, scope=b.scope, unit=b.unit,
                     limit=b.limit, spent=round(st.spent, 6), over=round(over, 6))
        _escalate(town, f"budget {b.scope} tripped: {b.fmt(st.spent)} of {b.fmt(b.limit)}", text, "high")
    elif st.state == "warned" and was == "ok":
        text = (f"Budget {b.scope} ({b.period}) is at {100 * st.ratio:.0f}%: {b.fmt(st.spent)} of "
                f"{b.fmt(b.limit)}. At 100% the breaker stops new work in {b.scope}.")
        append_event(town.events_path, "budget_warning", "budget", budget=b.id, scope=b.scope, unit=b.unit,
                     limit=b.limit, spent=round(st.spent, 6), percent=round(100 * st.ratio, 1))
        _escalate(town, f"budget {b.scope} at {100 * st.ratio:.0f}%", text, "medium")


def _escalate(town: Town, title: str, text: str, severity: str) -> None:
    """An escalation bead (Needs you) and mail to the Overseer, with Gas Town's escalation fields."""
    priority = {"high": 1, "medium": 2}.get(severity, 2)
    desc = set_fields(text.rstrip() + "\n\n", severity=severity, reason=text.splitlines()[0][:200], source="budget",
                      escalated_by="budget", escalated_at=now_ts(), related_bead=None)
    issue = town_ledger(town).create(f"ESCALATION: {title}", issue_type="task", priority=priority,
                                     labels=["gt:escalation", f"severity:{severity}", "routed"], description=desc,
                                     actor="budget")
    send_mail(town, "budget", "overseer", f"ESCALATION: {title}",
              f"Escalation: {issue.id}\nSeverity: {severity}\nSource: budget\n\n{text}", type="escalation",
              priority=priority)


# -- the breaker -------------------------------------------------------------------------------------------------
def tripped(town: Town) -> list[dict]:
    """The tripped budgets (persisted state only: no spend is read)."""
    state = load_state(town)
    return [{"id": k, **v} for k, v in state.items() if isinstance(v, dict) and v.get("state") == "tripped"]


def refusal(town: Town, rig: str | None = None, convoy: str | None = None) -> str | None:
    """Why new work in this scope is refused (a tripped breaker covers it), or None."""
    for t in tripped(town):
        scope = t["id"].split("/", 1)[0]
        kind, _, name = scope.partition(":")
        if kind == "town" or (kind == "rig" and name == rig) or (kind == "convoy" and name == convoy):
            unit = t["id"].split("/")[1]
            fmt = (lambda v: f"${v:,.2f}") if unit == "usd" else (lambda v: f"{int(v):,} tokens")
            return (f"budget {scope} is tripped ({fmt(t.get('spent', 0))} spent of {fmt(t.get('limit', 0))}); "
                    f"raise it with `gastown budget raise {scope} --to N` or `gastown budget reset {scope}`")
    return None


def check_new_work(town: Town, rig: str | None = None, bead_id: str | None = None) -> None:
    """Refuses (UserError with the reason) a sling of BEAD_ID in a tripped scope (town, RIG, or a convoy
    tracking the bead); budgets are checked first so a limit crossed since the last check counts."""
    if not load_budgets(town):
        return
    evaluate(town)
    convoy = None
    if bead_id:
        tracking = convoys_tracking(town, bead_id)
        convoy = tracking[0] if tracking else None
    why = refusal(town, rig, convoy)
    if why:
        append_event(town.events_path, "sling_refused", "budget", rig=rig, convoy=convoy, reason=why)
        raise UserError(f"refused: {why}")


def refusal_for_agent(town: Town, address: str) -> str | None:
    """For a session start: the breaker covering the agent's rig or its hooked bead's convoy."""
    if not _state_path(town).exists():
        return None

    a = parse_address(address)
    return refusal(town, rig=a.rig, convoy=_convoy_of_hook(town, address))


def _convoy_of_hook(town: Town, address: str) -> str | None:
    try:
        rec = hooked_record(town, address)
    except UserError:
        return None
    return parse_fields((rec or {}).get("description")).get("convoy_id") if rec else None


def in_scope(town: Town, address: str, scope_id: str) -> bool:
    a_rig = address.split("/", 1)[0] if "/" in address.strip("/") else None
    kind, _, name = scope_id.split("/", 1)[0].partition(":")
    return kind == "town" or (kind == "rig" and a_rig == name) or (
        kind == "convoy" and _convoy_of_hook(town, address) == name)


# -- a person resumes -----------------------------------------------------------------------------------------
def _match(budgets: list[Budget], scope: str) -> list[Budget]:
    found = [b for b in budgets if b.scope == scope or b.id == scope]
    if not found:
        known = ", ".join(b.id for b in budgets) or "none"
        raise UserError(f"no budget {scope!r} (budgets: {known})")
    return found


def raise_budget(town: Town, scope: str, to: float | None = None, by: float | None = None,
                 actor: str = "overseer") -> list[dict]:
    """A higher limit for SCOPE's budget(s), written to settings/config.json; clears their trip."""
    path = _settings_path(town)
    data = read_json(path, default={}) or {}
    targets = _match(load_budgets(town), scope)
    changed = []
    for b in targets:
        new = to if to is not None else b.limit + (by if by is not None else b.limit)
        if new <= b.limit:
            raise UserError(f"{b.id}: the new limit {new:g} is not above the current {b.limit:g}")
        for item in data.get("budgets") or []:
            if (item.get("scope", "town"), item.get("period", "total")) == (b.scope, b.period) and b.unit in item:
                item[b.unit] = int(new) if b.unit == "tokens" else new
        changed.append({"budget": b.id, "old": b.limit, "new": new})
    write_json(path, data)
    _clear(town, [b.id for b in targets], reset=False)
    for c in changed:
        append_event(town.events_path, "budget_raised", actor, budget=c["budget"], old=c["old"], new=c["new"])
    return changed


def reset_budget(town: Town, scope: str, actor: str = "overseer") -> list[str]:
    """Counts SCOPE's budget(s) from now on and clears their trip."""
    ids = [b.id for b in _match(load_budgets(town), scope)]
    _clear(town, ids, reset=True)
    for i in ids:
        append_event(town.events_path, "budget_reset", actor, budget=i)
    return ids


def _clear(town: Town, ids: list[str], reset: bool) -> None:
    with file_lock(town.runtime / "budget" / ".lock", what="budget lock"):
        state = load_state(town)
        for i in ids:
            entry = dict(state.get(i) or {})
            entry.update(state="ok", changed_at=time.time())
            if reset:
                entry["reset_at"] = time.time()
            state[i] = entry
        _save_state(town, state)


def app_resume(town_root: str | Path, scope: str, limit: str | None) -> str:
    """The app's "resume budget" action: raise SCOPE's limit to LIMIT, or reset its count when LIMIT is
    empty; returns the line for the toast."""
    town = Town(Path(town_root))
    if limit:
        try:
            value = float(limit)
        except ValueError:
            raise UserError(f"not a number: {limit!r}") from None
        done = raise_budget(town, scope, to=value)
        return "; ".join(f"{c['budget']}: {c['old']:g} → {c['new']:g}" for c in done)
    return "reset: " + ", ".join(reset_budget(town, scope))
