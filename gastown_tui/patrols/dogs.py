"""Dogs: the Deacon's maintenance helpers, each a short task run by the `dogs` patrol.

- `branch_dog`: deletes polecat branches (`polecat/*` in the rig's repo, local ones in
  the Mayor's clone that no worktree has checked out) and the Refinery's kept refs
  (`refs/gastown/kept/*`) whose every commit is already on the target — by patch
  identity, so rebased copies count. Anything with one commit not on the target stays.
- `wisp_dog`: burns closed wisps (ephemeral beads) closed longer ago than `wisp_ttl`: a wisp
  molecule whole once its root is closed (`meow.burn`), never the closed steps of an open one.
- `orphan_dog`: beads hooked / in progress for an agent that no longer exists go back
  to `open` (unassigned), and the Deacon gets `ORPHAN_RECOVERED` mail. The branch of
  the vanished polecat is left alone (the branch dog keeps anything unmerged).

Each dog's run is one `dog_run` event saying what it looked at and what it did.
"""
from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gastown_tui.timestamps import to_unix
from gastown_tui.patrols.base import Decision, Patrol, Report, RunContext, Timer
from gastown_tui.patrols.eventlog import append_event
from gastown_tui.town.layout import Town
from gastown_tui.vcs.merge import MergeError, unmerged_commits
from gastown_tui.meow import burn
from gastown_tui.town.events import append_event as town_event
from gastown_tui.town.hooks import orphaned_hooks
from gastown_tui.town.ledgers import all_ledgers, ledger_for_id
from gastown_tui.town.mail import send_mail
from gastown_tui.town.rigs import list_rigs

log = logging.getLogger(__name__)

ACTOR = "deacon/dogs"


@dataclass
class DogSettings:
    wisp_ttl: float = 3600.0


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def _checked_out(repo: Path) -> set[str]:
    out = _git(repo, "worktree", "list", "--porcelain")
    return {line.split(" ", 1)[1].removeprefix("refs/heads/") for line in out.splitlines() if line.startswith("branch ")}


def branch_dog(town: Town) -> tuple[dict, list[Decision]]:
    saw = {"checked": 0, "kept_unmerged": 0}
    did: list[Decision] = []
    for rig in list_rigs(town):
        target = rig.target
        places = [(rig.repo, target, "refs/heads/polecat/"), (rig.repo, target, "refs/gastown/kept/")]
        if (rig.mayor_clone / ".git").exists():
            places.append((rig.mayor_clone, f"origin/{target}", "refs/heads/polecat/"))
        for repo, tgt, prefix in places:
            if not Path(repo).exists():
                continue
            busy = _checked_out(repo)
            refs = _git(repo, "for-each-ref", "--format=%(refname)", prefix).split()
            for ref in refs:
                short = ref.removeprefix("refs/heads/")
                if short in busy:
                    continue
                saw["checked"] += 1
                try:
                    left = unmerged_commits(repo, ref, tgt)
                except MergeError:
                    continue
                if left:
                    saw["kept_unmerged"] += 1
                    continue
                _git(repo, "update-ref", "-d", ref)
                did.append(Decision("delete_branch", short, f"all of it is on {target}",
                                    detail={"repo": str(repo), "rig": rig.name}))
    return saw, did


def _age(ts: str | None, now: float) -> float | None:
    if not ts:
        return None
    try:
        return now - to_unix(ts)
    except ValueError:
        return None


def _is_wisp(rec: dict) -> bool:
    return bool(rec.get("ephemeral")) or rec.get("wisp") is True       # `wisp` = the legacy flag


def wisp_dog(town: Town, now: float, ttl: float) -> tuple[dict, list[Decision]]:
    """Burns closed wisps past `ttl`: a wisp molecule whole (`meow.burn(root)`, once its root is
    closed, which happens with its last step) and a closed standalone wisp (no parent, no
    children). The closed steps of a molecule whose root is still open are never touched (that
    would lose them from its progress), nor any wisp in a tree that is not a molecule."""
    saw = {"closed_wisps": 0, "molecules": 0, "kept_in_open_molecule": 0}
    did: list[Decision] = []
    for ledger in all_ledgers(town):
        with ledger.transaction():          # decide and burn under one lock: no step closes in between
            _burn_old_wisps(ledger, now, ttl, saw, did, burn)
    return saw, did


def _burn_old_wisps(ledger, now: float, ttl: float, saw: dict, did: list, burn) -> None:
    index = ledger.blocked_index(wisps=True)
    roots: list[tuple[str, float, int]] = []      # (id, age in seconds, steps)
    singles: list[tuple[str, float, int]] = []
    for rid, rec in index.records.items():
        if rec.get("status") != "closed" or not _is_wisp(rec):
            continue
        saw["closed_wisps"] += 1
        parent = index.parent.get(rid)
        if parent is not None and parent not in index.records:
            parent = None           # its molecule is already gone: a leftover, burned on its own
        if rec.get("issue_type") == "molecule" and parent is None:
            saw["molecules"] += 1
            kind = roots
        elif parent is None and not index.children.get(rid):
            kind = singles
        else:                   # a step: it goes with its molecule, never on its own
            if _open_root(index, rid):
                saw["kept_in_open_molecule"] += 1
            continue
        age = _age(rec.get("closed_at") or rec.get("updated_at"), now)
        if age is not None and age >= ttl:
            kind.append((rid, age, len(index.children.get(rid, ()))))
    for rid, age, steps in roots:
        burn(ledger, rid)
        did.append(Decision("burn_wisp", rid, f"wisp molecule ({steps} steps) closed {age / 60:.0f} min ago "
                            f"(ttl {ttl / 60:.0f} min)", detail={"steps": steps}))
    if singles:
        ledger.delete_many([rid for rid, _, _ in singles])
        for rid, age, _ in singles:
            did.append(Decision("burn_wisp", rid, f"closed {age / 60:.0f} min ago (ttl {ttl / 60:.0f} min)"))


def _open_root(index, rid: str) -> bool:
    parent = index.parent.get(rid)
    rec = index.records.get(parent) if parent else None
    return rec is not None and rec.get("status") != "closed"


def orphan_dog(town: Town) -> tuple[dict, list[Decision]]:
    orphans = orphaned_hooks(town)
    did = []
    for o in orphans:
        ledger = ledger_for_id(town, o["bead"])
        with ledger.transaction():
            issue = ledger.get(o["bead"])
            if issue.assignee != o["assignee"] or issue.status not in ("hooked", "in_progress"):
                continue  # someone else got there first
            ledger.update(o["bead"], status="open", assignee=None, actor=ACTOR)
        ledger.add_comment(o["bead"], f"reopened by the orphan dog: {o['reason']}", ACTOR)
        town_event(town.events_path, "unhook", ACTOR, agent=o["assignee"], bead=o["bead"], reason=o["reason"])
        try:
            send_mail(town, ACTOR, "deacon/", f"ORPHAN_RECOVERED {o['bead']}",
                      f"Bead: {o['bead']}\nTitle: {o['title']}\nWas: {o['status']} by {o['assignee']}\n"
                      f"Reason: {o['reason']}\n\nIt is open again for the Deacon to feed.")
        except Exception as exc:  # the reopening stands; the mail is a courtesy
            log.warning("orphan dog: ORPHAN_RECOVERED mail for %s not sent: %s", o["bead"], exc)
        did.append(Decision("reopen_orphan", o["bead"], o["reason"], bead=o["bead"],
                            detail={"was": o["assignee"]}))
    return {"orphans": len(orphans)}, did


class Dogs(Patrol):
    role = "dogs"
    name = "dogs"

    def __init__(self, town: Town, settings: DogSettings | None = None, timer: Timer = Timer(60, 600),
                 record_events: bool = True):
        self.town = town
        self.settings = settings or DogSettings()
        self.timer = timer
        self.record_events = record_events

    def concerns(self, change) -> bool:
        return change.kind == "manual"

    def run(self, ctx: RunContext) -> Report:
        report = Report()
        dogs = (("branch", lambda: branch_dog(self.town)),
                ("wisp", lambda: wisp_dog(self.town, ctx.now, self.settings.wisp_ttl)),
                ("orphan", lambda: orphan_dog(self.town)))
        for name, dog in dogs:
            saw, did = dog()
            report.saw[name] = saw
            report.did.extend(did)
            if self.record_events:
                append_event(self.town.root, "dog_run", f"deacon/dogs/{name}",
                             {"dog": name, "saw": saw, "did": [d.to_dict() for d in did]},
                             "both" if did else "audit")
        return report
