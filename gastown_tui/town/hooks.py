"""Hooks: a bead is on an agent's hook when status = hooked and assignee = the agent's address.

The agent bead's `hook_bead` mirrors it (Gas Town keeps it as a backup field).
Every change records a `hook` or `unhook` event.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gastown_tui.errors import UserError
from gastown_tui.town.layout import Town
from gastown_tui.beads.fields import set_fields
from gastown_tui.town.addresses import parse_address
from gastown_tui.town.agents import set_agent_state, workdir
from gastown_tui.town.events import append_event
from gastown_tui.town.ledgers import all_ledgers, rig_ledger, town_ledger, ledger_for_id
from gastown_tui.town.rigs import load_registry

if TYPE_CHECKING:  # annotations only: importing beads' models at run time loads pydantic into `gt prime`
    from gastown_tui.beads import Issue, Ledger

HOOKED = "hooked"


def hooked_record(town: Town, address: str) -> dict | None:
    """The stored record (a plain dict; do not modify it) of the bead on ADDRESS's hook, or None.

    Looks in the agent's rig ledger and the town ledger (every ledger for town-level agents).
    Builds no models, so `gt prime` stays fast on big ledgers."""
    a = parse_address(address)
    address = str(a)
    ledgers = [rig_ledger(town, a.rig), town_ledger(town)] if a.rig else all_ledgers(town)
    for ledger in ledgers:
        found = ledger.raw_list(status=HOOKED, assignee=address)
        if found:
            return found[0]
    return None


def hooked_work(town: Town, address: str) -> Issue | None:
    """The bead (Issue) on ADDRESS's hook, or None."""
    rec = hooked_record(town, address)
    if rec is None:
        return None
    # deferred: pydantic (the Issue model) loads only for callers that want a model; `gt prime` and the
    # patrols read hooked_record's plain dict
    from gastown_tui.beads.models import Issue

    return Issue.from_record(rec)


def check_hookable(issue: Issue, address: str, force: bool) -> None:
    """Refuses closed beads, beads on a hook or in progress by someone else, and non-work beads, unless FORCE."""
    if issue.status == "closed" and not force:
        raise UserError(f"bead {issue.id} is closed ({issue.close_reason or 'no reason'}); "
                        f"reopen it or use --force")
    if issue.status == HOOKED and issue.assignee and not force:
        if issue.assignee == address:
            raise UserError(f"bead {issue.id} is already on {address}'s hook")
        raise UserError(f"bead {issue.id} is already hooked by {issue.assignee} (use --force to take it)")
    if issue.status == "in_progress" and issue.assignee and issue.assignee != address and not force:
        raise UserError(f"bead {issue.id} is in progress by {issue.assignee} (use --force to take it)")
    if issue.issue_type in ("agent", "convoy", "merge-request") and not force:
        raise UserError(f"bead {issue.id} is a {issue.issue_type} bead, not work to hook")


def hook_bead(town: Town, bead_id: str, address: str, force: bool = False, actor: str = "overseer",
              ledger: Ledger | None = None, **fields: object) -> Issue:
    """Puts BEAD_ID on ADDRESS's hook atomically: within one ledger transaction the bead is
    re-read, checked (closed / already hooked refuse unless FORCE) and set hooked.
    Extra FIELDS become `key: value` lines of its description. Returns the bead."""
    ledger = ledger or ledger_for_id(town, bead_id)
    with ledger.transaction():
        issue = ledger.get(bead_id)
        check_hookable(issue, address, force)
        previous = issue.assignee if issue.status == HOOKED else None
        desc = set_fields(issue.description, **fields) if fields else issue.description
        issue = ledger.update(bead_id, status=HOOKED, assignee=address, description=desc, actor=actor)
    _mirror(town, address, bead_id)
    if previous and previous != address:
        _mirror(town, previous, None)
        append_event(town.events_path, "unhook", actor, agent=previous, bead=bead_id, reason=f"taken by {address}")
    append_event(town.events_path, "hook", actor, agent=address, bead=bead_id, title=issue.title)
    return issue


def _mirror(town: Town, address: str, bead_id: str | None) -> None:
    try:
        state = "working" if bead_id else None
        set_agent_state(town, address, state, hook=bead_id)
    except UserError:
        pass  # agents without a bead (overseer) or removed ones


def unhook_bead(town: Town, bead_id: str, actor: str = "overseer", status: str = "open",
                reason: str = "", keep_assignee: bool = False) -> Issue:
    """Takes BEAD_ID off whatever hook holds it (status -> STATUS, assignee cleared unless kept)."""
    ledger = ledger_for_id(town, bead_id)
    with ledger.transaction():
        issue = ledger.get(bead_id)
        holder = issue.assignee if issue.status == HOOKED else None
        if holder is None:
            return issue
        updates: dict[str, str | None] = {"status": status}
        if not keep_assignee:
            updates["assignee"] = None
        issue = ledger.update(bead_id, actor=actor, **updates)
    _mirror(town, holder, None)
    append_event(town.events_path, "unhook", actor, agent=holder, bead=bead_id, reason=reason)
    return issue


def unhook_agent(town: Town, address: str, actor: str = "overseer", reason: str = "") -> Issue | None:
    """Clears ADDRESS's hook (the bead goes back to open, unassigned). Returns the bead or None."""
    issue = hooked_work(town, address)
    if issue is None:
        return None
    return unhook_bead(town, issue.id, actor=actor, reason=reason)


def rehook(town: Town, bead_id: str, address: str, actor: str = "overseer", reason: str = "") -> Issue:
    """Puts work back on an agent's hook (e.g. the Refinery returning a conflicted MR's bead to its polecat)."""
    issue = hook_bead(town, bead_id, address, force=True, actor=actor)
    if reason:
        ledger_for_id(town, bead_id).add_comment(bead_id, f"back on {address}'s hook: {reason}", actor)
    return issue


def orphaned_hooks(town: Town) -> list[dict]:
    """Hooked or in-progress beads whose holder is gone: a polecat/crew whose folder is missing,
    or an agent bead that is nuked. [{bead, title, status, assignee, reason}]"""
    rigs = load_registry(town)
    out = []
    for ledger in all_ledgers(town):
        for status in (HOOKED, "in_progress"):
            for issue in ledger.list(status=status):
                if not issue.assignee:
                    continue
                try:
                    a = parse_address(issue.assignee)
                except ValueError:
                    continue
                reason = None
                if a.rig and a.rig not in rigs:
                    reason = f"rig {a.rig} no longer exists"
                elif a.role in ("polecat", "crew"):
                    wd = workdir(town, str(a))
                    if wd is not None and not Path(wd).exists():
                        reason = f"{a} has no workspace ({wd} is missing)"
                if reason:
                    out.append({"bead": issue.id, "title": issue.title, "status": issue.status,
                                "assignee": issue.assignee, "reason": reason})
    return out
