"""Escalations: a bead in the town ledger (label `gt:escalation`) plus mail to the Overseer.

Gas Town's fields (reference/gastown.md §3.11): `severity, reason, source,
escalated_by, escalated_at, related_bead`. An escalation the patrols raise is
routed at once (label `routed`, mail to `overseer`); ones filed by others are
routed by the Deacon (`route`).
"""
from __future__ import annotations

from gastown_tui.beads.fields import set_fields, parse_fields
from gastown_tui.timestamps import now as now_ts
from gastown_tui.town.layout import Town
from gastown_tui.town.ledgers import town_ledger
from gastown_tui.town.mail import send_mail

SEVERITY_PRIORITY = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def escalate(town: Town, title: str, reason: str, *, source: str, severity: str = "high",
             related: str | None = None) -> str:
    """Files an escalation, mails the Overseer; returns the escalation bead id."""
    ledger = town_ledger(town)
    desc = set_fields(reason.rstrip() + "\n\n", severity=severity, reason=reason.splitlines()[0][:200],
                      source=source, escalated_by=source, escalated_at=now_ts(), related_bead=related)
    issue = ledger.create(f"ESCALATION: {title}", issue_type="task", priority=SEVERITY_PRIORITY.get(severity, 1),
                          labels=["gt:escalation", f"severity:{severity}"], description=desc, actor=source)
    route(town, issue.id, actor=source)
    return issue.id


def route(town: Town, escalation_id: str, actor: str = "deacon/") -> None:
    """Mails the Overseer about an escalation and marks it `routed`."""
    ledger = town_ledger(town)
    issue = ledger.get(escalation_id)
    fields = parse_fields(issue.description or "")
    severity = fields.get("severity", "medium")
    body = (f"Escalation: {escalation_id}\nSeverity: {severity}\nSource: {fields.get('source', '?')}\n"
            f"Related: {fields.get('related_bead') or '-'}\n\n{issue.description}")
    send_mail(town, actor, "overseer", issue.title, body, type="escalation",
              priority=SEVERITY_PRIORITY.get(severity, 2) if severity is not None else 2)
    ledger.add_label(escalation_id, "routed")
