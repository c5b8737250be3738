"""The merge queue: merge-request beads in each rig's ledger.

An MR is created by `gastown done`: type `merge-request`, label
`gt:merge-request`, title `Merge: <source bead>`, priority of the source bead,
description lines (Gas Town's) `branch, target, source_issue, rig, commit_sha,
worker, agent_bead, retry_count, last_conflict_sha, conflict_task_id,
convoy_id` plus `mr_state`. The Refinery moves the state along:
queued -> rebasing -> testing -> merged, or conflict / failed.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from gastown_tui.errors import UserError, not_found
from gastown_tui.town.layout import Town
from gastown_tui import vcs
from gastown_tui.beads.fields import parse_fields, set_fields
from gastown_tui.town.events import append_event
from gastown_tui.town.ledgers import open_ledger, ledger_for_id
from gastown_tui.town.rigs import get_rig, list_rigs

if TYPE_CHECKING:   # the models load pydantic
    from gastown_tui.beads.ledger import Ledger
    from gastown_tui.beads.models import Issue

MR_STATES = ("queued", "rebasing", "testing", "conflict", "failed", "merged", "superseded", "rejected")
OPEN_STATES = ("queued", "rebasing", "testing", "conflict", "failed")
STATUS_FOR = {"queued": "open", "rebasing": "in_progress", "testing": "in_progress", "conflict": "blocked",
              "failed": "blocked", "merged": "closed", "superseded": "closed", "rejected": "closed"}


@dataclass
class MR:
    id: str
    rig: str
    title: str
    state: str
    branch: str
    target: str
    source_bead: str | None
    polecat: str | None
    priority: int
    commit_sha: str | None
    retry_count: int
    created_at: str
    updated_at: str
    gate_output: str | None
    convoy_id: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def to_mr(rig: str, issue: Issue) -> MR:
    f = parse_fields(issue.description)
    state = f.get("mr_state") or ("merged" if issue.status == "closed" else "queued")
    try:
        retries = int(f.get("retry_count") or 0)
    except ValueError:
        retries = 0
    return MR(issue.id, rig, issue.title, state, f.get("branch") or "", f.get("target") or "",
              f.get("source_issue"), f.get("worker"), issue.priority, f.get("commit_sha"), retries,
              issue.created_at, issue.updated_at, f.get("gate_output"), f.get("convoy_id"))


def list_mrs(town: Town, rig: str | None = None, states: Iterable[str] | None = None,
             include_closed: bool = False) -> list[MR]:
    """MRs in queue order (priority, then oldest first). STATES filters; closed ones only when asked."""
    rigs = [get_rig(town, rig)] if rig else list_rigs(town)
    want = set(states) if states else None
    out = []
    for r in rigs:
        ledger = open_ledger(r.beads_dir)
        closed = include_closed or bool(want and want - set(OPEN_STATES))
        for issue in ledger.list(issue_type="merge-request", include_closed=closed):
            mr = to_mr(r.name, issue)
            if want is None or mr.state in want:
                out.append(mr)
    return sorted(out, key=lambda m: (m.state not in OPEN_STATES, m.priority, m.created_at))


def _find(town: Town, mr_id: str) -> tuple[Ledger, Issue, str]:
    ledger = ledger_for_id(town, mr_id)
    issue = ledger.find(mr_id)
    if issue is None or issue.issue_type != "merge-request":
        raise not_found("merge request", mr_id, [m.id for m in list_mrs(town, include_closed=True)])
    rig = next((r.name for r in list_rigs(town) if r.beads_dir == ledger.beads_dir), "")
    return ledger, issue, rig


def get_mr(town: Town, mr_id: str) -> MR:
    ledger, issue, rig = _find(town, mr_id)
    return to_mr(rig, issue)


def create_mr(town: Town, ledger: Ledger, rig: str, *, source: str, branch: str, target: str, commit_sha: str,
              worker: str, agent_bead: str | None, priority: int, convoy_id: str | None,
              actor: str) -> MR:
    """Writes an MR bead (inside the caller's transaction if any); supersedes open MRs for the same source."""
    with ledger.transaction():
        for old in ledger.list(issue_type="merge-request"):
            mr = to_mr(rig, old)
            if mr.source_bead == source and mr.state in ("queued", "conflict", "failed"):
                ledger.update(old.id, description=set_fields(old.description, mr_state="superseded"))
                ledger.close(old.id, reason="superseded", actor=actor)
        desc = set_fields("", branch=branch, target=target, source_issue=source, rig=rig, commit_sha=commit_sha,
                          worker=worker, agent_bead=agent_bead, retry_count=0, last_conflict_sha=None,
                          conflict_task_id=None, convoy_id=convoy_id, mr_state="queued")
        issue = ledger.create(f"Merge: {source}", issue_type="merge-request", priority=priority,
                              labels=["gt:merge-request"], description=desc, actor=actor)
    return to_mr(rig, issue)


def set_mr_state(town: Town, mr_id: str, state: str, actor: str | None = None, note: str | None = None,
                 **fields: object) -> MR:
    """Moves an MR to STATE (the bead's status follows); FIELDS become description lines; NOTE a comment."""
    if state not in MR_STATES:
        raise UserError(f"unknown merge request state {state!r} (known: {', '.join(MR_STATES)})")
    ledger, issue, rig = _find(town, mr_id)
    actor = actor or f"{rig}/refinery"
    with ledger.transaction():
        issue = ledger.get(mr_id)
        old = to_mr(rig, issue)
        if old.state in ("merged", "superseded", "rejected") and state != old.state:
            raise UserError(f"merge request {mr_id} is already {old.state}")
        values = dict(fields)
        values["mr_state"] = state
        if state in ("conflict", "failed") and old.state not in ("conflict", "failed"):
            values.setdefault("retry_count", old.retry_count + 1)
        clean = {k: (str(v).replace("\n", " ")[:500] if v is not None else None) for k, v in values.items()}
        desc = set_fields(issue.description, **clean)
        status = STATUS_FOR[state]
        if status == "closed":
            ledger.update(mr_id, description=desc)
            issue = ledger.close(mr_id, reason=state, actor=actor)
        else:
            issue = ledger.update(mr_id, description=desc, status=status, actor=actor)
        if note:
            ledger.add_comment(mr_id, note, actor)
    append_event(town.events_path, "mr_state", actor, mr=mr_id, rig=rig, old=old.state, new=state,
                 source=old.source_bead)
    return to_mr(rig, issue)


def mr_diff(town: Town, mr_id: str) -> tuple[list[tuple[str, str]], str]:
    """([(status, path)], unified diff) of the MR's branch against its target, in the rig's repo."""
    mr = get_mr(town, mr_id)
    repo = get_rig(town, mr.rig).repo
    if not vcs.branch_exists(repo, mr.branch):
        raise UserError(f"merge request {mr_id}: branch {mr.branch} is not in {repo} (deleted after merge?)")
    files = vcs.changed_files(repo, mr.branch, mr.target)
    return [(path, status) for status, path in files], vcs.diff_text(repo, mr.branch, mr.target)
