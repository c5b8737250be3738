"""`gastown done`: a polecat submits its branch to the merge queue.

Refuses (changing nothing) when the worktree has uncommitted changes (unless
auto_commit) or the branch has no commits ahead of the target. Otherwise:
push the branch to the rig's repo (a failed push changes nothing and says what
git said), then in the rig ledger: create the MR bead, move the hooked bead to
in_progress (its hook is done; `mr_id:` added), mark the polecat `done`; then
mail the Witness (POLECAT_DONE) and the Refinery (MERGE_READY) and record
`done`, `unhook` and `merge_requested` events.
"""
from __future__ import annotations

from pathlib import Path

from gastown_tui.errors import UserError
from gastown_tui.town.layout import Town
from gastown_tui import vcs
from gastown_tui.beads.fields import parse_fields, set_fields
from gastown_tui.town.addresses import parse_address
from gastown_tui.town.agents import agent_bead_id, set_agent_state
from gastown_tui.town.events import append_event
from gastown_tui.town.hooks import hooked_work
from gastown_tui.town.ledgers import ledger_for_id, open_ledger
from gastown_tui.town.mail import send_mail
from gastown_tui.town.mq import MR, create_mr
from gastown_tui.town.polecats import mayor_clone_lock, worktree_path
from gastown_tui.town.ralph import check_done_allowed
from gastown_tui.town.rigs import get_rig


def polecat_for_path(town: Town, path: Path) -> tuple[str, str] | None:
    """(rig, name) when PATH is inside a polecat's folder."""
    try:
        rel = Path(path).resolve().relative_to(town.root)
    except ValueError:
        return None
    parts = rel.parts
    if len(parts) >= 3 and parts[1] == "polecats":
        return parts[0], parts[2]
    return None


def submit_done(town: Town, cwd: Path, address: str | None = None, auto_commit: bool = False,
                target: str | None = None) -> MR:
    where = polecat_for_path(town, cwd)
    if where is None and address:
        a = parse_address(address)
        if a.role == "polecat" and a.rig is not None and a.name is not None:    # a polecat's address has both
            where = (a.rig, a.name)
    if where is None:
        raise UserError(f"`done` runs inside a polecat's worktree; {cwd} is not in one "
                        f"(and GT_AGENT does not name a polecat)")
    rig_name, name = where
    rig = get_rig(town, rig_name)
    address = f"{rig.name}/polecats/{name}"
    worktree = worktree_path(rig, name)
    if not (worktree / ".git").exists():
        raise UserError(f"{address} has no worktree at {worktree}")
    branch = vcs.current_branch(worktree)
    if not branch:
        raise UserError(f"{worktree} is not on a branch (detached HEAD); check out your polecat branch first")
    target = target or rig.target
    if branch == target:
        raise UserError(f"{worktree} is on the target branch {target}, not a polecat branch")
    hook = hooked_work(town, address)
    if hook is not None:
        check_done_allowed(town, hook.id)       # an open Ralph step: its check has not passed yet

    dirty = vcs.dirty_paths(worktree)
    if dirty and not auto_commit:
        shown = ", ".join(dirty[:10]) + (f" and {len(dirty) - 10} more" if len(dirty) > 10 else "")
        raise UserError(f"uncommitted changes in {worktree}: {shown}; commit them "
                        f"or run `gastown done --auto-commit`")
    if dirty:
        vcs.commit_all(worktree, f"{hook.id if hook else branch}: work in progress (auto-commit by gt done)")
    ahead = vcs.commits_ahead(worktree, branch, f"origin/{target}")
    if not ahead:
        raise UserError(f"no commits on {branch} ahead of {target}: nothing to submit "
                        f"(commit your work; if there was nothing to do, close the bead with a reason)")

    # The branch belongs to this polecat alone; after a rebase (FIX_NEEDED) it must replace the old copy.
    with mayor_clone_lock(rig):      # the push updates the mayor clone's origin/* refs too
        sha = vcs.push_branch(worktree, branch, force=True)   # GitError (git's message) before any ledger change

    ledger = open_ledger(rig.beads_dir)
    if hook is not None:
        source = hook.id
    else:  # no hook: the bead named in the branch, polecat/<name>/<bead>@<ts>
        parts = branch.split("/", 2)
        source = parts[2].split("@")[0] if len(parts) == 3 else branch
    source_ledger = ledger_for_id(town, hook.id) if hook else ledger
    convoy = parse_fields(hook.description).get("convoy_id") if hook else None
    # The MR, the source bead and the agent bead change together (one write per ledger) or not at all.
    with ledger.transaction(), source_ledger.transaction():
        mr = create_mr(town, ledger, rig.name, source=source, branch=branch, target=target, commit_sha=sha,
                       worker=address, agent_bead=agent_bead_id(town, address),
                       priority=hook.priority if hook else 2, convoy_id=convoy, actor=address)
        if hook is not None:
            cur = source_ledger.get(hook.id)
            source_ledger.update(hook.id, status="in_progress", actor=address,
                                 description=set_fields(cur.description, mr_id=mr.id, branch=branch))
        set_agent_state(town, address, "done", hook=None, exit_type="COMPLETED", mr_id=mr.id, branch=branch,
                        active_mr=mr.id)
    append_event(town.events_path, "done", address, agent=address, bead=source, branch=branch, commit=sha,
                 mr=mr.id, commits=len(ahead))
    if hook is not None:
        append_event(town.events_path, "unhook", address, agent=address, bead=hook.id, reason="done")
    append_event(town.events_path, "merge_requested", address, mr=mr.id, rig=rig.name, branch=branch,
                 target=target, bead=source)
    body = f"Exit: COMPLETED\nIssue: {source}\nMR: {mr.id}\nBranch: {branch}\n"
    send_mail(town, address, f"{rig.name}/witness", f"POLECAT_DONE {name}", body)
    send_mail(town, address, f"{rig.name}/refinery", f"MERGE_READY {name}",
              f"Branch: {branch}\nIssue: {source}\nPolecat: {address}\nMR: {mr.id}\nVerified: false\n")
    return mr
