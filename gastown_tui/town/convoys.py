"""Convoys: town beads (`hq-cv-*`, type convoy) that track a set of beads to delivery.

Tracked beads are `tracks` dependencies of the convoy bead. A bead in the town
ledger is tracked by its id; one in a rig ledger as `external:<rig>:<id>`
(ledgers only hold edges to their own beads or to external refs). Progress is
closed/total, computed when read; 0/0 is not complete. A convoy lands (closes,
mails its owner "🚚 Convoy landed: <title>") when every tracked bead is closed.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from gastown_tui.errors import UserError, not_found
from gastown_tui.town.layout import Town
from gastown_tui.beads.fields import set_fields, parse_fields
from gastown_tui.town.agents import resolve_address
from gastown_tui.town.events import append_event
from gastown_tui.town.ledgers import TOWN_PREFIX, prefix_of, get_bead, town_ledger, ledger_for_id
from gastown_tui.town.mail import send_mail
from gastown_tui.town.rigs import load_registry

if TYPE_CHECKING:   # the models load pydantic
    from gastown_tui.beads.ledger import Ledger
    from gastown_tui.beads.models import Issue

TRACKS = "tracks"


@dataclass
class TrackedInfo:
    bead_id: str
    title: str
    status: str
    assignee: str | None


@dataclass
class ConvoyInfo:
    id: str
    title: str
    status: str
    owner: str | None
    tracked: list[TrackedInfo] = field(default_factory=list)
    created_at: str = ""

    @property
    def done(self) -> int:
        return sum(1 for t in self.tracked if t.status == "closed")

    @property
    def total(self) -> int:
        return len(self.tracked)

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done == self.total

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(done=self.done, total=self.total, progress=f"{self.done}/{self.total}")
        return d


def _ref(town: Town, bead_id: str) -> str:
    prefix = prefix_of(bead_id)
    if prefix == TOWN_PREFIX:
        return bead_id
    for name, entry in load_registry(town).items():
        if entry.get("beads", {}).get("prefix", "").rstrip("-") == prefix:
            return f"external:{name}:{bead_id}"
    return bead_id


def _unref(ref: str) -> str:
    return ref.rsplit(":", 1)[-1] if ref.startswith("external:") else ref


def _tracked_ids(issue: Issue) -> list[str]:
    return [_unref(d.depends_on_id) for d in issue.dependencies if d.type == TRACKS]


def create_convoy(town: Town, title: str, bead_ids: list[str], owner: str | None = None,
                  actor: str = "overseer", notify: str | None = None, convoy_id: str | None = None) -> str:
    """A new convoy tracking BEAD_IDS (each must exist); returns its id (CONVOY_ID when given)."""
    if not title.strip():
        raise UserError("a convoy needs a title")
    for bid in bead_ids:
        get_bead(town, bid)                      # NotFound names the nearest ids
    ledger = town_ledger(town)
    if owner:
        owner = resolve_address(town, owner)      # NotFound names the nearest known addresses
    owner = owner or actor
    desc = set_fields(f"Convoy tracking {len(bead_ids)} issues", owner=owner, notify=notify or owner)
    deps = [(TRACKS, _ref(town, b)) for b in dict.fromkeys(bead_ids)]
    issue = ledger.create(title, issue_type="convoy", infix=None if convoy_id else "cv", labels=["gt:convoy"],
                          description=desc, deps=deps, actor=actor, id=convoy_id)
    append_event(town.events_path, "convoy_created", actor, convoy=issue.id, title=title, beads=list(bead_ids),
                 owner=owner)
    return issue.id


def add_to_convoy(town: Town, convoy_id: str, bead_ids: list[str], actor: str = "overseer") -> None:
    """Tracks more beads; adding to a landed (closed) convoy reopens it."""
    ledger = town_ledger(town)
    convoy = _get(ledger, convoy_id)
    for bid in bead_ids:
        get_bead(town, bid)
    with ledger.transaction():
        if convoy.status == "closed":
            ledger.reopen(convoy_id)
        for bid in bead_ids:
            ledger.add_dependency(convoy_id, _ref(town, bid), TRACKS, actor=actor)
    append_event(town.events_path, "convoy_added", actor, convoy=convoy_id, beads=list(bead_ids))


def _get(ledger: Ledger, convoy_id: str) -> Issue:
    issue = ledger.find(convoy_id)
    if issue is None or issue.issue_type != "convoy":
        raise not_found("convoy", convoy_id, [c.id for c in ledger.list(issue_type="convoy", include_closed=True)])
    return issue


def _info(town: Town, issue: Issue, cache: dict) -> ConvoyInfo:
    tracked = []
    for bid in _tracked_ids(issue):
        try:
            ledger = ledger_for_id(town, bid)
            bead = ledger.find(bid)
        except UserError:
            bead = None
        if bead is None:
            tracked.append(TrackedInfo(bid, "(missing)", "missing", None))
        else:
            tracked.append(TrackedInfo(bid, bead.title, bead.status, bead.assignee))
    owner = parse_fields(issue.description).get("owner")
    return ConvoyInfo(issue.id, issue.title, issue.status, owner, tracked, issue.created_at)


def get_convoy(town: Town, convoy_id: str) -> ConvoyInfo:
    return _info(town, _get(town_ledger(town), convoy_id), {})


def list_convoys(town: Town, include_closed: bool = False) -> list[ConvoyInfo]:
    ledger = town_ledger(town)
    return [_info(town, c, {}) for c in ledger.list(issue_type="convoy", include_closed=include_closed)]


def convoys_tracking(town: Town, bead_id: str, include_closed: bool = False) -> list[str]:
    """Ids of the (open) convoys that track BEAD_ID."""
    ref = _ref(town, bead_id)
    return [c.id for c in town_ledger(town).list(issue_type="convoy", include_closed=include_closed)
            if any(d.type == TRACKS and d.depends_on_id in (ref, bead_id) for d in c.dependencies)]


def close_convoy(town: Town, convoy_id: str, actor: str = "overseer", reason: str = "closed") -> None:
    ledger = town_ledger(town)
    _get(ledger, convoy_id)
    ledger.close(convoy_id, reason=reason, actor=actor)


def land_ready_convoys(town: Town, actor: str = "deacon/") -> list[str]:
    """Closes every open convoy whose tracked beads are all closed and mails its owner; returns their ids.

    Convoys labelled `gt:owned` are left for their owner to land."""
    ledger = town_ledger(town)
    landed = []
    for info in list_convoys(town):
        convoy = ledger.find(info.id)
        if convoy is None or "gt:owned" in convoy.labels or not info.complete:
            continue
        with ledger.transaction():
            if ledger.get(info.id).status == "closed":
                continue
            ledger.close(info.id, reason="landed", actor=actor)
        landed.append(info.id)
        append_event(town.events_path, "convoy_landed", actor, convoy=info.id, title=info.title,
                     beads=[t.bead_id for t in info.tracked])
        if info.owner:
            try:
                send_mail(town, actor, info.owner, f"🚚 Convoy landed: {info.title}",
                          f"Convoy {info.id} has completed. All tracked issues are now closed.")
            except UserError:
                pass  # the owner is gone; the landing itself stands
    return landed
