"""The Refinery: one per rig, merges the queue one request at a time.

Order: priority, then age (`town.mq.list_mrs`). For each queued MR:
rebasing -> testing -> merged, in the Refinery's own worktree (vcs/merge.py):

- merged: the MR is closed (`merged`, with the merge commit), the source bead is
  closed, convoys that are now complete land, the rig's Witness gets `MERGED <polecat>`;
- conflict / red gate: the MR goes to `conflict` / `failed` with the files or the
  gate's output tail, the branch head is kept under `refs/gastown/kept/<mr>` (so
  nothing the polecat does next can lose it), the source bead goes back on the
  polecat's hook and the polecat gets `FIX_NEEDED` mail saying what to fix; if the
  polecat is gone, the Overseer gets an escalation instead;
- branch gone: the MR is `failed` and handled like a red gate (the polecat can
  resubmit); with no polecat either, it is escalated (the work may be lost).

With `merge_queue.push_remote` (e.g. "origin") the target is also pushed from the
rig's repo to that remote after each merge (a rejection is escalated; the merge
stands). A rig whose `merge_queue.require_approval` is true merges only MRs the Overseer
approved (`approve`). `approve` and `send_back` are what the app's merge queue
calls; they change the ledger at once and the next Refinery run acts on them.
Nothing is deleted here: branches are the dogs' business, once on the target.
"""
from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from gastown_tui.beads.fields import parse_fields, set_fields
from gastown_tui.timestamps import now as now_ts
from gastown_tui.patrols.base import Change, Decision, Patrol, Report, RunContext, Timer
from gastown_tui.patrols.escalate import escalate
from gastown_tui.town.layout import Town
from gastown_tui.vcs.merge import BRANCH_MISSING, CONFLICT, GATE_FAILED, MERGED, merge_branch
from gastown_tui.errors import UserError
from gastown_tui.town.agents import workdir, set_agent_state
from gastown_tui.town.convoys import land_ready_convoys
from gastown_tui.town.events import append_event
from gastown_tui.town.hooks import rehook
from gastown_tui.town.ledgers import ledger_for_id, open_ledger
from gastown_tui.town.mail import send_mail
from gastown_tui.town.write_lock import TownWriteLock, process_write_lock

log = logging.getLogger(__name__)
from gastown_tui.town.mq import get_mr, set_mr_state, list_mrs
from gastown_tui.town.rigs import get_rig
from gastown_tui.town.sling import sling

WAKE_EVENTS = ("merge_requested", "done", "mr_state")
KEPT_PREFIX = "refs/gastown/kept"


def _rig(town: Town, name: str):
    return get_rig(town, name)


def keep_branch_head(repo: Path, branch: str, mr_id: str) -> str | None:
    """Points `refs/gastown/kept/<mr_id>` at the branch tip (so a later rebase cannot lose it); returns the sha."""
    sha = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}"],
                         cwd=repo, capture_output=True, text=True).stdout.strip()
    if sha:
        subprocess.run(["git", "update-ref", f"{KEPT_PREFIX}/{mr_id}", sha], cwd=repo, check=True,
                       capture_output=True)
    return sha or None


def polecat_exists(town: Town, address: str | None) -> bool:
    if not address:
        return False
    try:
        wd = workdir(town, address)
    except UserError:       # not an address this town knows (its rig is gone): no such polecat
        return False
    return wd is not None and Path(wd).exists()


def _polecat_name(address: str | None) -> str:
    return (address or "?").rsplit("/", 1)[-1]


def hand_back(town: Town, mr, *, kind: str, details: str, actor: str) -> Decision:
    """Sends the work back to its polecat (FIX_NEEDED + rehook), or escalates when the polecat is gone."""
    source = mr.source_bead or "?"
    if polecat_exists(town, mr.polecat):
        body = (f"Branch: {mr.branch}\nIssue: {source}\nTarget: {mr.target}\nFailure-Type: {kind}\n"
                f"MR-Bead-ID: {mr.id}\nAttempt-Number: {mr.retry_count + 1}\n\n{details}\n\n"
                f"Fix it on your branch ({mr.branch}) and run `gt done` again. {source} is back on your hook.")
        send_mail(town, actor, mr.polecat, f"FIX_NEEDED {_polecat_name(mr.polecat)}: {source} {kind}", body,
                  type="task", priority=1)
        if mr.source_bead:
            rehook(town, mr.source_bead, mr.polecat, actor=actor, reason=f"{kind} in {mr.id}")
        return Decision("fix_needed", mr.polecat, f"{mr.id} {kind}: work is back on the polecat's hook",
                        bead=mr.source_bead, detail={"mr": mr.id, "kind": kind})
    esc = escalate(town, f"{mr.id} {kind} and its polecat {mr.polecat} is gone",
                   f"{details}\n\nBranch {mr.branch} is kept; nobody is left to fix it.",
                   source=actor, severity="high", related=mr.source_bead)
    return Decision("escalate", "overseer", f"{mr.id} {kind}; polecat {mr.polecat} is gone", bead=mr.id,
                    detail={"escalation": esc, "kind": kind})


def get_state(town: Town, mr_id: str) -> str:
    return get_mr(town, mr_id).state


def approved(mr_issue) -> bool:
    return bool(parse_fields(mr_issue.description or "").get("approved_by"))


def _approve(town: Town, mr_id: str, actor: str = "overseer") -> None:
    """The Overseer approves an MR: it may merge on a rig that requires approval, and a `failed` one is
    queued again (its gate runs again). Conflicted or closed MRs are refused with the reason."""
    mr = get_mr(town, mr_id)
    if mr.state in ("merged", "superseded", "rejected"):
        raise UserError(f"merge request {mr_id} is already {mr.state}")
    if mr.state == "conflict":
        raise UserError(f"merge request {mr_id} conflicts with {mr.target}: it must be fixed, not approved "
                        "(send it back instead)")
    ledger = ledger_for_id(town, mr_id)
    with ledger.transaction():
        issue = ledger.get(mr_id)
        ledger.update(mr_id, description=set_fields(issue.description, approved_by=actor, approved_at=now_ts()))
    if mr.state in ("failed", "rebasing", "testing"):
        set_mr_state(town, mr_id, "queued", actor=actor, note=f"approved by {actor}: queued again")
    append_event(town.events_path, "mr_approved", actor, mr=mr_id, rig=mr.rig)


def _send_back(town: Town, mr_id: str, note: str, actor: str = "overseer") -> Decision:
    """The Overseer sends an MR back: `failed` with the note, FIX_NEEDED to the polecat, work back on its hook."""
    mr = get_mr(town, mr_id)
    if mr.state in ("merged", "superseded", "rejected"):
        raise UserError(f"merge request {mr_id} is already {mr.state}")
    if not note.strip():
        raise UserError("sending a merge request back needs a note saying what to fix")
    keep_branch_head(_rig(town, mr.rig).repo, mr.branch, mr.id)
    mr = set_mr_state(town, mr_id, "failed", actor=actor, note=f"sent back by {actor}: {note}",
                      gate_output=f"sent back: {note}")
    return hand_back(town, mr, kind="sent back by the Overseer", details=note, actor=actor)


def _resling(town: Town, mr_id: str, target: str, actor: str = "overseer") -> str:
    """The MR's bead goes to another agent (`target` = a rig: a new polecat; or an address). The old MR is
    superseded, the old branch kept (also under `refs/gastown/kept/<mr>`). Returns the agent now holding it."""
    mr = get_mr(town, mr_id)
    if mr.state in ("merged", "superseded", "rejected"):
        raise UserError(f"merge request {mr_id} is already {mr.state}")
    if not mr.source_bead:
        raise UserError(f"merge request {mr_id} names no source bead to sling again")
    keep_branch_head(_rig(town, mr.rig).repo, mr.branch, mr.id)
    result = sling(town, mr.source_bead, target, force=True, no_convoy=True, actor=actor)
    set_mr_state(town, mr_id, "superseded", actor=actor,
                 note=f"{mr.source_bead} slung again to {result.agent} by {actor}; {mr.branch} kept")
    if mr.polecat and mr.polecat != result.agent:
        try:
            set_agent_state(town, mr.polecat, "idle", hook=None)
        except UserError as exc:
            log.info("re-sling of %s: old polecat %s not cleared: %s", mr_id, mr.polecat, exc)  # it is gone
    return result.agent


def approve(town: Town, mr_id: str, actor: str = "overseer", lock: TownWriteLock | None = None) -> None:
    """See `_approve`; holds the town's write lock (LOCK, default the process's), so it is
    safe from any worker thread and never interleaves with a patrol run."""
    with lock or process_write_lock():
        return _approve(town, mr_id, actor)


def send_back(town: Town, mr_id: str, note: str, actor: str = "overseer",
              lock: TownWriteLock | None = None) -> Decision:
    """See `_send_back`; holds the town's write lock (see `approve`)."""
    with lock or process_write_lock():
        return _send_back(town, mr_id, note, actor)


def resling(town: Town, mr_id: str, target: str, actor: str = "overseer", lock: TownWriteLock | None = None) -> str:
    """See `_resling`; holds the town's write lock (see `approve`)."""
    with lock or process_write_lock():
        return _resling(town, mr_id, target, actor)


class Refinery(Patrol):
    role = "refinery"
    rig: str        # a Refinery works one rig's queue
    # The gate runs for minutes: the Refinery takes the town's write lock only around
    # its ledger changes; rebase, gate and merge happen in its own worktree outside it.
    locks_itself = True

    def __init__(self, town: Town, rig: str, timer: Timer = Timer(30, 300), max_per_run: int = 20):
        self.town = town
        self.rig = rig
        self.name = f"refinery:{rig}"
        self.timer = timer
        self.max_per_run = max_per_run
        self.actor = f"{rig}/refinery"

    def concerns(self, change: Change) -> bool:
        if change.kind == "manual":
            return True
        if change.kind == "events":
            return any(e.get("type") in WAKE_EVENTS and (e.get("payload") or {}).get("rig") in (None, self.rig)
                       for e in change.events)
        if change.kind == "ledger" and change.path is not None:
            try:
                return Path(change.path).relative_to(self.town.root).parts[0] == self.rig
            except (ValueError, IndexError):
                return False
        return False

    def queue(self) -> tuple[list, list]:
        """(mergeable MRs in order, MRs waiting for approval)."""
        rig = _rig(self.town, self.rig)
        queued = list_mrs(self.town, rig=self.rig, states=["queued"])
        if not rig.settings.data.get("merge_queue", {}).get("require_approval"):
            return queued, []
        ledger = open_ledger(rig.beads_dir)
        ok = [m for m in queued if approved(ledger.get(m.id))]
        return ok, [m for m in queued if m not in ok]

    def run(self, ctx: RunContext) -> Report:
        lock = ctx.write_lock
        rig = _rig(self.town, self.rig)
        mq = rig.settings.data.get("merge_queue", {})
        if mq.get("enabled") is False:
            return Report(saw={"enabled": False})
        did: list[Decision] = []
        with lock:
            self.requeue_stale()
        ready, waiting = self.queue()
        saw = {"queued": [m.id for m in ready], "awaiting_approval": [m.id for m in waiting]}
        for _ in range(self.max_per_run):
            if not ready:
                break
            did.append(self.process(ready[0], rig, mq, lock))
            ready, waiting = self.queue()
        return Report(saw=saw, did=did)

    def requeue_stale(self) -> list[str]:
        """MRs left `rebasing`/`testing` by a run that died: nothing works on them now, so queue them again."""
        stale = list_mrs(self.town, rig=self.rig, states=["rebasing", "testing"])
        for mr in stale:
            set_mr_state(self.town, mr.id, "queued", actor=self.actor, note="queued again: the merge attempt was cut off")
        return [m.id for m in stale]

    def process(self, mr, rig, mq: dict, lock: TownWriteLock | None = None) -> Decision:
        lock = lock or process_write_lock()
        try:
            return self._process(mr, rig, mq, lock)
        except BaseException:
            try:
                with lock:
                    if get_state(self.town, mr.id) in ("rebasing", "testing"):
                        set_mr_state(self.town, mr.id, "queued", actor=self.actor,
                                     note="queued again after an error")
            except Exception:  # the first error is what the runner reports; this one goes to the log
                log.exception("%s: could not queue %s again after an error", self.name, mr.id)
            raise

    def _process(self, mr, rig, mq: dict, lock: TownWriteLock) -> Decision:
        gate = rig.gate if mq.get("run_tests", True) else ""
        target = mr.target or rig.target
        with lock:
            set_mr_state(self.town, mr.id, "rebasing", actor=self.actor)

        def progress(stage: str) -> None:
            if stage == "testing":
                with lock:
                    set_mr_state(self.town, mr.id, "testing", actor=self.actor)

        result = merge_branch(rig.refinery_worktree, mr.branch, target=target, gate=gate or None,
                              committer=(self.actor, f"{self.rig}.refinery@gastown.local"), progress=progress,
                              gate_timeout=float(mq.get("gate_timeout", 900)))
        with lock:
            return self._settle(mr, rig, mq, result, target)

    def _settle(self, mr, rig, mq: dict, result, target: str) -> Decision:
        """The MR's new state after a merge attempt (under the town's write lock)."""
        detail = {"mr": mr.id, "branch": mr.branch, "result": result.status}
        if result.status == MERGED:
            if mq.get("push_remote") and not result.already:
                detail["pushed"] = self._push_upstream(rig, target, mq["push_remote"])
            return self._merged(mr, result, detail)
        if result.status == CONFLICT:
            keep_branch_head(rig.repo, mr.branch, mr.id)
            files = ", ".join(result.conflict_files)
            mr = set_mr_state(self.town, mr.id, "conflict", actor=self.actor, note=result.message,
                              last_conflict_sha=mr.commit_sha, gate_output=f"conflict in: {files}")
            return hand_back(self.town, mr, kind="conflict", actor=self.actor,
                             details=f"Rebasing onto {target} conflicts in these files:\n"
                                     + "\n".join(f"  {f}" for f in result.conflict_files)
                                     + f"\n\nRebase your branch onto {target}, resolve them, commit.")
        if result.status == GATE_FAILED:
            keep_branch_head(rig.repo, mr.branch, mr.id)
            mr = set_mr_state(self.town, mr.id, "failed", actor=self.actor,
                              note=f"{result.message}\n\n{result.gate_tail}",
                              gate_output=(result.gate_tail.splitlines() or [""])[-1])
            return hand_back(self.town, mr, kind="gate failed", actor=self.actor,
                             details=f"The gate `{result.gate_command}` exited {result.gate_returncode} "
                                     f"on your branch rebased onto {target}. Its output ends:\n\n{result.gate_tail}")
        if result.status == BRANCH_MISSING:
            mr = set_mr_state(self.town, mr.id, "failed", actor=self.actor, note=result.message,
                              gate_output="branch missing")
            return hand_back(self.town, mr, kind="branch missing", actor=self.actor,
                             details=f"{result.message}. Push your branch again with `gt done`.")
        # a git error in the Refinery's own worktree: leave the MR queued and try again next run
        set_mr_state(self.town, mr.id, "queued", actor=self.actor, note=f"merge attempt failed: {result.message}")
        raise RuntimeError(f"merging {mr.id} failed: {result.message}")

    def _push_upstream(self, rig, target: str, remote: str) -> str:
        """Pushes the target to the rig repo's upstream remote (merge_queue.push_remote); escalates a rejection.
        The merge itself stands: the rig's repo is the town's source of truth."""
        proc = subprocess.run(["git", "push", "--quiet", remote, f"{target}:{target}"], cwd=rig.repo,
                              capture_output=True, text=True)
        if proc.returncode == 0:
            return "ok"
        err = (proc.stderr or proc.stdout).strip()
        escalate(self.town, f"push of {rig.name}/{target} to {remote} was rejected",
                 f"The Refinery merged into {target} in the rig's repo, but `git push {remote} {target}` "
                 f"failed:\n\n{err}", source=self.actor, severity="medium")
        return f"rejected: {err.splitlines()[-1] if err else '?'}"

    def _merged(self, mr, result, detail: dict) -> Decision:
        set_mr_state(self.town, mr.id, "merged", actor=self.actor, merge_commit=result.merged_sha,
                     note=result.message)
        if mr.source_bead:
            ledger = ledger_for_id(self.town, mr.source_bead)
            bead = ledger.find(mr.source_bead)
            if bead is not None and bead.status != "closed":
                ledger.close(mr.source_bead, reason=f"merged in {mr.id} ({(result.merged_sha or '')[:10]})",
                             actor=self.actor)
        landed = land_ready_convoys(self.town, actor=self.actor)
        try:
            send_mail(self.town, self.actor, f"{self.rig}/witness", f"MERGED {_polecat_name(mr.polecat)}",
                      f"Branch: {mr.branch}\nIssue: {mr.source_bead}\nMR: {mr.id}\n"
                      f"Merge-Commit: {result.merged_sha}\nCommits: {len(result.commits)}\n")
        except Exception as exc:  # the merge stands even if the witness has no mailbox yet
            log.warning("%s: MERGED mail for %s not sent: %s", self.name, mr.id, exc)
        detail.update(merged_sha=result.merged_sha, landed=landed, already=result.already)
        return Decision("merge", mr.target or "main", result.message, bead=mr.source_bead, detail=detail)
