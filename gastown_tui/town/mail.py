"""Mail: durable messages between agents, one town-ledger bead per recipient.

A message is a bead of type `message` assigned to the recipient, titled with
the subject, the body as its description, labelled `gt:message`,
`from:<sender>`, `msg-type:<type>`, `delivery:pending`, and for replies
`thread:<id>` / `reply-to:<id>`. Read = label `read`; archived = closed.
Groups: @town (every agent), @witnesses, @refineries, @overseer,
@rig/<rig>, @crew/<rig>, @polecats/<rig>.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from gastown_tui.errors import UserError, not_found
from gastown_tui.town.layout import Town
from gastown_tui.town.agents import known_addresses, resolve_address
from gastown_tui.town.events import append_event
from gastown_tui.town.ledgers import town_ledger
from gastown_tui.town.rigs import load_registry

if TYPE_CHECKING:   # the models load pydantic
    from gastown_tui.beads.ledger import Ledger
    from gastown_tui.beads.models import Issue

TYPES = ("task", "escalation", "scavenge", "notification", "reply")
GROUPS = ("@town", "@witnesses", "@refineries", "@overseer", "@rig/<rig>", "@crew/<rig>", "@polecats/<rig>")


@dataclass
class MailInfo:
    id: str
    sender: str
    to: str
    subject: str
    body: str
    read: bool
    archived: bool
    thread_id: str | None
    reply_to: str | None
    type: str
    priority: int
    created_at: str

    def to_dict(self) -> dict:
        return asdict(self)


def _label_value(labels: Iterable[str], key: str) -> str | None:
    for label in labels:
        if label.startswith(key + ":"):
            return label[len(key) + 1:]
    return None


def to_info(issue: Issue | dict) -> MailInfo:
    """A MailInfo from a message bead (an Issue or its stored record)."""
    rec = issue if isinstance(issue, dict) else issue.to_record()
    labels = rec.get("labels") or []
    return MailInfo(rec["id"], _label_value(labels, "from") or rec.get("created_by") or "", rec.get("assignee") or "",
                    rec.get("title", ""), rec.get("description", ""), "read" in labels, rec.get("status") == "closed",
                    _label_value(labels, "thread"), _label_value(labels, "reply-to"),
                    _label_value(labels, "msg-type") or "notification", rec.get("priority", 0),
                    rec.get("created_at", ""))


def expand_recipients(town: Town, to: str) -> list[str]:
    """Addresses for TO (an address or a group). NotFound names the nearest known ones."""
    to = to.strip()
    if not to.startswith("@"):
        return [resolve_address(town, to)]
    known = known_addresses(town)
    rigs = load_registry(town)
    if to == "@town":
        return [a for a in known if a != "boot"]
    if to == "@overseer":
        return ["overseer"]
    if to == "@witnesses":
        return [f"{r}/witness" for r in sorted(rigs)]
    if to == "@refineries":
        return [f"{r}/refinery" for r in sorted(rigs)]
    kind, _, rig = to[1:].partition("/")
    if kind in ("rig", "crew", "polecats") and rig:
        if rig not in rigs:
            raise not_found("rig", rig, rigs)
        if kind == "rig":
            return [a for a in known if a.startswith(f"{rig}/")]
        return [a for a in known if a.startswith(f"{rig}/{kind}/")]
    raise not_found("mail group", to, ["@town", "@witnesses", "@refineries", "@overseer"]
                    + [f"@rig/{r}" for r in rigs])


def send_mail(town: Town, sender: str, to: str, subject: str, body: str = "", type: str = "notification",
              priority: int = 2, reply_to: str | None = None, thread: str | None = None) -> list[str]:
    """Sends one message per recipient of TO; returns the new message ids."""
    if not subject.strip():
        raise UserError("mail needs a subject (-s)")
    if type not in TYPES:
        raise UserError(f"unknown message type {type!r} (known: {', '.join(TYPES)})")
    recipients = expand_recipients(town, to)
    if not recipients:
        raise UserError(f"{to} has no members yet")
    ledger = town_ledger(town)
    ids = []
    with ledger.transaction():
        for rcpt in recipients:
            labels = ["gt:message", f"from:{sender}", f"msg-type:{type}", "delivery:pending"]
            if thread:
                labels.append(f"thread:{thread}")
            if reply_to:
                labels.append(f"reply-to:{reply_to}")
            issue = ledger.create(subject, issue_type="message", description=body, assignee=rcpt,
                                  priority=priority, labels=labels, actor=sender, sender=sender)
            ids.append(issue.id)
    for rcpt, mid in zip(recipients, ids):
        append_event(town.events_path, "mail", sender, to=rcpt, id=mid, subject=subject)
    return ids


def _message(town: Town, mail_id: str) -> tuple[Ledger, Issue]:
    ledger = town_ledger(town)
    issue = ledger.find(mail_id)
    if issue is None or issue.issue_type != "message":
        ids = [m.id for m in ledger.list(issue_type="message", include_closed=True)]
        raise not_found("message", mail_id, ids)
    return ledger, issue


def inbox(town: Town, address: str, unread_only: bool = False, include_archived: bool = False) -> list[MailInfo]:
    """Messages to ADDRESS, newest first."""
    ledger = town_ledger(town)
    msgs = [to_info(r) for r in ledger.raw_list(issue_type="message", assignee=address,
                                                 include_closed=include_archived)]
    if unread_only:
        msgs = [m for m in msgs if not m.read]
    return sorted(msgs, key=lambda m: m.created_at, reverse=True)


def read_mail(town: Town, mail_id: str, reader: str | None = None) -> MailInfo:
    """The message; marks it read (label `read`, delivery acked)."""
    return mark_read(town, mail_id, reader)


def mark_read(town: Town, mail_id: str, reader: str | None = None) -> MailInfo:
    ledger, issue = _message(town, mail_id)
    if "read" not in issue.labels:
        with ledger.transaction():
            labels = [lbl for lbl in issue.labels if lbl != "delivery:pending"] + ["read", "delivery:acked"]
            issue = ledger.update(mail_id, labels=labels)
        append_event(town.events_path, "mail_read", reader or issue.assignee or "", id=mail_id)
    return to_info(issue)


def archive(town: Town, mail_id: str, actor: str | None = None) -> MailInfo:
    ledger, issue = _message(town, mail_id)
    if issue.status != "closed":
        issue = ledger.close(mail_id, reason="archived", actor=actor)
        append_event(town.events_path, "mail_archived", actor or issue.assignee or "", id=mail_id)
    return to_info(issue)


def reply(town: Town, mail_id: str, body: str, sender: str | None = None, subject: str | None = None) -> str:
    """Replies to the sender of MAIL_ID in the same thread; returns the new id."""
    _, issue = _message(town, mail_id)
    original = to_info(issue)
    sender = sender or original.to
    subj = subject or (original.subject if original.subject.startswith("Re: ") else f"Re: {original.subject}")
    return send_mail(town, sender, original.sender, subj, body, type="reply", priority=original.priority,
                     reply_to=mail_id, thread=original.thread_id or mail_id)[0]


def thread(town: Town, mail_id: str) -> list[MailInfo]:
    """Every message in MAIL_ID's thread, oldest first."""
    _, issue = _message(town, mail_id)
    root = to_info(issue).thread_id or mail_id
    msgs = [to_info(r) for r in town_ledger(town).raw_list(issue_type="message", include_closed=True)]
    return sorted([m for m in msgs if m.id == root or m.thread_id == root], key=lambda m: m.created_at)
