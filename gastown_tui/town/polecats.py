"""Polecats: workers in their own git worktree, one hook each.

Worktree: `<rig>/polecats/<name>/<rig>/` on branch `polecat/<name>/<bead>@<ts>`
(`polecat/<name>@<ts>` without a bead), made from the mayor's clone at the
rig's target; `gastown done` pushes the branch to the rig's bare repo.
"""
from __future__ import annotations

import shutil
import time
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from pathlib import Path

from gastown_tui.errors import UserError, not_found
from gastown_tui.town.layout import Town
from gastown_tui.town.rigs import Rig, get_rig, RIG_NAME
from gastown_tui import vcs
from gastown_tui.filelock import file_lock
from gastown_tui.town import namepool
from gastown_tui.town.agents import ensure_agent_bead, rig_members, set_agent_state
from gastown_tui.town.budget import refusal
from gastown_tui.town.events import append_event
from gastown_tui.town.hooks import unhook_agent
from gastown_tui.town.ledgers import open_ledger, town_ledger, ledger_for_id
from gastown_tui.town.mq import list_mrs
from gastown_tui.vcs.errors import open_repo, run_git
from gastown_tui.vcs.fastref import read_branch

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass
class Polecat:
    name: str
    rig: str
    address: str
    worktree: str
    branch: str | None
    agent_state: str | None
    hook_bead: str | None
    last_activity: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def _base36(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = _B36[r] + out
    return out or "0"


def branch_name(name: str, bead_id: str | None) -> str:
    ts = _base36(int(time.time() * 1000))
    return f"polecat/{name}/{bead_id}@{ts}" if bead_id else f"polecat/{name}@{ts}"


def worktree_path(rig: Rig, name: str) -> Path:
    return rig.polecats_dir / name / rig.name


def mayor_clone_lock(rig: Rig) -> AbstractContextManager[None]:
    """Serialises git work on the mayor's clone (fetch, worktree add/remove) across processes.

    Taken only around git commands, never while waiting for a ledger, so it cannot deadlock with one."""
    return file_lock(rig.runtime / "mayor-clone.lock", timeout=120, what=f"{rig.name} mayor clone lock")


def spawn_polecat(town: Town, rig_name: str, bead_id: str | None = None, name: str | None = None,
                  actor: str = "overseer", state: str = "idle") -> Polecat:
    """Allocates a name, makes the worktree and branch, and the agent bead. Starts no process."""
    rig = get_rig(town, rig_name)
    why = refusal(town, rig=rig_name)
    if why:     # a tripped budget breaker: no new polecats in its scope
        raise UserError(f"refused: {why}")
    settings = rig.settings
    pool_cfg = settings.data.get("namepool", {})
    if name is not None:
        if not RIG_NAME.match(name):
            raise UserError(f"invalid polecat name {name!r}: use letters, digits, '-' and '_'")
    name = namepool.allocate(rig.polecats_dir, pool_cfg.get("style", "mad-max"), pool_cfg.get("names"),
                             wanted=name, busy=busy_names(town, rig))
    address = f"{rig.name}/polecats/{name}"
    worktree = worktree_path(rig, name)
    branch = branch_name(name, bead_id)
    try:
        with mayor_clone_lock(rig):
            vcs.prune_worktrees(rig.mayor_clone)      # forget worktrees whose folders vanished
            vcs.fetch(rig.mayor_clone)
            vcs.add_worktree(rig.mayor_clone, worktree, branch=branch, start=f"origin/{settings.target}")
        ensure_agent_bead(town, address, state=state, rig=rig)
        set_agent_state(town, address, state, hook=None, branch=branch)
    except BaseException:
        _discard(rig, name, branch)
        raise
    append_event(town.events_path, "spawn", actor, agent=address, rig=rig.name, branch=branch,
                 worktree=str(worktree), bead=bead_id)
    return Polecat(name, rig.name, address, str(worktree), branch, state, None, None)


def busy_names(town: Town, rig: Rig) -> set[str]:
    """Polecat names whose agent bead still holds work (a hook, or working/stuck) even if the folder is gone."""
    stem = f"{rig.prefix}-{rig.name}-polecat-"
    out = set()
    for bead in open_ledger(rig.beads_dir).list(issue_type="agent"):
        if bead.id.startswith(stem) and (bead.hook_bead or bead.agent_state in ("spawning", "working", "stuck",
                                                                                 "escalated")):
            out.add(bead.id[len(stem):])
    return out


def _discard(rig: Rig, name: str, branch: str | None) -> None:
    """Best-effort removal of a half-made polecat (no work can be in it yet)."""
    worktree = worktree_path(rig, name)
    with mayor_clone_lock(rig):
        try:
            if worktree.exists():
                vcs.remove_worktree(rig.mayor_clone, worktree, force=True)
        except UserError:
            pass
        shutil.rmtree(rig.polecats_dir / name, ignore_errors=True)
        try:
            vcs.prune_worktrees(rig.mayor_clone)
            if branch and vcs.branch_exists(rig.mayor_clone, branch):
                vcs.delete_branch(rig.mayor_clone, branch, force=True)
        except UserError:
            pass


def list_polecats(town: Town, rig_name: str | None = None) -> list[Polecat]:
    """Polecats on disk (no git started), with their agent bead's state and hook."""
    out = []
    for rig, folder, bead in rig_members(town, "polecat", rig_name):
        name = folder.name
        wt = worktree_path(rig, name)
        out.append(Polecat(name, rig.name, f"{rig.name}/polecats/{name}", str(wt), read_branch(wt),
                           bead.agent_state if bead else None, bead.hook_bead if bead else None,
                           bead.last_activity if bead else None))
    return out


def get_polecat(town: Town, rig_name: str, name: str) -> Polecat:
    cats = list_polecats(town, rig_name)
    for cat in cats:
        if cat.name == name:
            return cat
    raise not_found("polecat", f"{rig_name}/polecats/{name}", [c.address for c in cats])


def at_risk(town: Town, rig_name: str, name: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(commits not on the target, uncommitted paths) for a polecat: what removing it would lose."""
    rig = get_rig(town, rig_name)
    cat = get_polecat(town, rig_name, name)
    wt = Path(cat.worktree)
    if not (wt / ".git").exists():
        return [], []
    dirty = vcs.dirty_paths(wt)
    commits: list[tuple[str, str]] = []
    if cat.branch:
        with mayor_clone_lock(rig):
            vcs.fetch(rig.mayor_clone)
        commits = vcs.unmerged_commits(rig.mayor_clone, cat.branch, f"origin/{rig.target}")
    return commits, dirty


def remove_polecat(town: Town, rig_name: str, name: str, force: bool = False, actor: str = "overseer") -> Polecat:
    """Removes a polecat's worktree, branch and folder; refuses while work would be lost unless FORCE.

    Its hook, if any, goes back to open/unassigned; its agent bead becomes `nuked` (the name is free again).
    """
    rig = get_rig(town, rig_name)
    if not (rig.polecats_dir / name).is_dir():
        return _forget_vanished(town, rig, name, actor)
    cat = get_polecat(town, rig_name, name)
    commits, dirty = at_risk(town, rig_name, name)
    if (commits or dirty) and not force:
        parts = []
        if commits:
            shown = "; ".join(f"{sha[:8]} {subject}" for sha, subject in commits[:5])
            more = f" and {len(commits) - 5} more" if len(commits) > 5 else ""
            parts.append(f"{len(commits)} unmerged commit(s) on {cat.branch}: {shown}{more}")
        if dirty:
            parts.append(f"uncommitted changes in {', '.join(dirty[:10])}")
        raise UserError(f"refusing to remove {cat.address}: it would lose {' and '.join(parts)} (use --force)")
    unhook_agent(town, cat.address, actor=actor, reason="polecat removed")
    wt = Path(cat.worktree)
    with mayor_clone_lock(rig):
        if wt.exists():
            vcs.remove_worktree(rig.mayor_clone, wt, force=True)
        vcs.prune_worktrees(rig.mayor_clone)
        if cat.branch and vcs.branch_exists(rig.mayor_clone, cat.branch):
            vcs.delete_branch(rig.mayor_clone, cat.branch, force=True)
    shutil.rmtree(rig.polecats_dir / name, ignore_errors=True)
    try:
        set_agent_state(town, cat.address, "nuked", hook=None)
    except UserError:
        pass
    append_event(town.events_path, "polecat_removed", actor, agent=cat.address, branch=cat.branch,
                 forced=force, lost_commits=len(commits), lost_files=len(dirty))
    return cat


def _forget_vanished(town: Town, rig: Rig, name: str, actor: str) -> Polecat:
    """A polecat whose folder is gone but whose agent bead lives on: free its hook, mark it nuked."""
    address = f"{rig.name}/polecats/{name}"
    bead = open_ledger(rig.beads_dir).find(f"{rig.prefix}-{rig.name}-polecat-{name}")
    if bead is None or bead.agent_state == "nuked":
        raise not_found("polecat", address, [c.address for c in list_polecats(town, rig.name)])
    unhook_agent(town, address, actor=actor, reason="polecat folder vanished")
    with mayor_clone_lock(rig):
        vcs.prune_worktrees(rig.mayor_clone)
    set_agent_state(town, address, "nuked", hook=None)
    append_event(town.events_path, "polecat_removed", actor, agent=address, branch=None, forced=False,
                 reason="folder had vanished")
    return Polecat(name, rig.name, address, str(worktree_path(rig, name)), None, "nuked", None, bead.last_activity)


# ---------------------------------------------------------------------------------------------- reaping
class ReapRefused(UserError):
    """A polecat still holds something that reaping would lose (the message says what)."""


OPEN_WORK = ("hooked", "in_progress")


def _held_work(town: Town, rig: Rig, address: str) -> list[str]:
    """Beads hooked or in progress by ADDRESS (rig and town ledgers), and its agent bead's live hook."""
    held = []
    for ledger in (open_ledger(rig.beads_dir), town_ledger(town)):
        for status in OPEN_WORK:
            held += [f"{i.id} ({status})" for i in ledger.list(status=status, assignee=address)]
    agent = open_ledger(rig.beads_dir).find(f"{rig.prefix}-{rig.name}-polecat-{address.rsplit('/', 1)[-1]}")
    if agent is not None and agent.hook_bead and not any(h.startswith(agent.hook_bead + " ") for h in held):
        try:
            hooked = ledger_for_id(town, agent.hook_bead).find(agent.hook_bead)
        except UserError:
            hooked = None
        if hooked is not None and hooked.status != "closed":
            held.append(f"{agent.hook_bead} (agent bead's hook, {hooked.status})")
    return held


def reap_blockers(town: Town, rig_name: str, name: str) -> list[str]:
    """Why polecat NAME cannot be reaped yet; [] when everything it made is on the target.

    Blocks: work hooked or in progress for it, an open merge request of its, uncommitted changes in
    its worktree, and any commit of its branch (checked out, or the copy pushed to the rig's repo)
    whose change is not on the target (patch identity: rebased copies that landed count as merged)."""
    rig = get_rig(town, rig_name)
    cat = get_polecat(town, rig_name, name)
    out = []
    held = _held_work(town, rig, cat.address)
    if held:
        out.append(f"work on its hook: {', '.join(held)}")
    mrs = [m.id for m in list_mrs(town, rig=rig.name) if m.polecat == cat.address]
    if mrs:
        out.append(f"open merge request(s) {', '.join(mrs)}")
    wt = Path(cat.worktree)
    if (wt / ".git").exists():
        dirty = vcs.dirty_paths(wt)
        if dirty:
            out.append(f"uncommitted changes in {', '.join(dirty[:10])}" + (" ..." if len(dirty) > 10 else ""))
        with mayor_clone_lock(rig):
            vcs.fetch(rig.mayor_clone)
        left = vcs.unmerged_commits(wt, "HEAD", f"origin/{rig.target}")
        if left:
            out.append(_commits_text(left, f"{cat.branch or 'HEAD'}", rig.target))
    if cat.branch and vcs.branch_exists(rig.repo, cat.branch):
        left = vcs.unmerged_commits(rig.repo, cat.branch, rig.target)
        if left:
            out.append(_commits_text(left, f"{cat.branch} in the rig's repo", rig.target))
    return out


def _commits_text(commits: list[tuple[str, str]], where: str, target: str) -> str:
    shown = "; ".join(f"{sha[:8]} {subject}" for sha, subject in commits[:5])
    more = f" and {len(commits) - 5} more" if len(commits) > 5 else ""
    return f"{len(commits)} commit(s) on {where} not on {target}: {shown}{more}"


def reap_polecat(town: Town, rig_name: str, name: str, actor: str = "overseer") -> Polecat:
    """Removes a polecat whose work has landed: worktree, branch (and its pushed copy), folder; its agent
    bead becomes `nuked` with no hook; a `polecat_reaped` event; the name is free for the next sling.

    Refuses (ReapRefused, nothing changed) while `reap_blockers` names anything. Stopping the polecat's
    session is the caller's business (the Witness stops it first)."""
    rig = get_rig(town, rig_name)
    cat = get_polecat(town, rig_name, name)
    blockers = reap_blockers(town, rig_name, name)
    if blockers:
        raise ReapRefused(f"not reaping {cat.address}: {'; '.join(blockers)}")
    head = None
    wt = Path(cat.worktree)
    ledger = open_ledger(rig.beads_dir)
    with ledger.transaction():          # last look under the ledger lock: nothing was hooked meanwhile
        held = _held_work(town, rig, cat.address)
        if held:
            raise ReapRefused(f"not reaping {cat.address}: work on its hook: {', '.join(held)}")
    with mayor_clone_lock(rig):
        if (wt / ".git").exists():
            head = vcs.rev_parse(wt, "HEAD")
            vcs.remove_worktree(rig.mayor_clone, wt, force=True)   # clean: checked above (tooling folders aside)
        vcs.prune_worktrees(rig.mayor_clone)
        if cat.branch and vcs.branch_exists(rig.mayor_clone, cat.branch):
            vcs.delete_branch(rig.mayor_clone, cat.branch, force=True)   # -D: landed by patch identity
    if cat.branch and vcs.branch_exists(rig.repo, cat.branch):
        run_git(open_repo(rig.repo), f"deleting {cat.branch} in {rig.repo}", "update-ref", "-d",
                f"refs/heads/{cat.branch}")
    shutil.rmtree(rig.polecats_dir / name, ignore_errors=True)
    try:
        set_agent_state(town, cat.address, "nuked", hook=None, active_mr=None)
    except UserError:
        pass
    append_event(town.events_path, "polecat_reaped", actor, agent=cat.address, rig=rig.name, branch=cat.branch,
                 head=head, reason=f"all of its work is on {rig.target}")
    return cat
