"""A reaped remote polecat's clone on its node removed, as a local polecat's worktree is when it is reaped
(docs/nodes.md, "Cleanup") — never while its branch there holds a commit the town has not fetched.

`sweep(town)` looks at the placements (`.runtime/nodes/placements.json`) whose polecat no longer exists in
the town (reaped, or removed by hand). For each, over ssh: the commit the clone's branch is at on the node;
if the rig's repository in the town does not hold that commit (a commit made on the node after the town
last collected it), the clone is kept and a `node_clone_kept` event names the commit (once per commit);
else the clone is removed — only if it is still on that polecat's branch (a new polecat of the same name may
have been placed there since), moved aside to `<path>.removing` first so that it is never left half there —
its placement forgotten, and a `node_clone_removed` event written. A node
that cannot be reached is tried again on the next sweep. The town server's heartbeat runs it after each
beat (nodes/heartbeat.py, every minute by default), in a thread of its own."""
from __future__ import annotations

import subprocess
from dataclasses import dataclass

from gastown_tui.errors import UserError
from gastown_tui.nodes.git import RemoteWorktree, check_branch, remote_path
from gastown_tui.nodes.placement import load_placements, placements_path
from gastown_tui.nodes.registry import load_nodes
from gastown_tui.nodes.ssh import NodeError, run
from gastown_tui.town.events import append_event
from gastown_tui.town.jsonfile import write_json
from gastown_tui.town.polecats import list_polecats
from gastown_tui.town.rigs import get_rig
from gastown_tui.filelock import file_lock

ACTOR = "deacon"


@dataclass
class Swept:
    address: str
    node: str
    path: str
    outcome: str  # removed | kept | unreachable | gone
    detail: str = ""


def _has_commit(repo, sha: str) -> bool:
    return subprocess.run(["git", "-C", str(repo), "cat-file", "-e", f"{sha}^{{commit}}"], capture_output=True,
                          timeout=30).returncode == 0


def _tip(node, wt: RemoteWorktree) -> str | None:
    """The commit the clone's branch is at on the node; None when the clone is gone. NodeError: unreachable."""
    path = remote_path(wt.path)
    res = run(node, f"if [ -d {path} ]; then git -C {path} rev-parse --verify -q "
                    f"{remote_path('refs/heads/' + wt.branch)} || echo none; else echo gone; fi", timeout=60)
    if res.returncode != 0:
        raise NodeError(f"node {node.name}: cannot read {wt.branch} in {wt.path}: "
                        f"{res.stderr.decode(errors='replace').strip()[-200:]}")
    out = res.stdout.decode().strip()
    return None if out == "gone" else out


def clean_one(town, node, address: str, wt: RemoteWorktree, said: set) -> Swept:
    check_branch(wt.polecat, wt.branch)
    rig = get_rig(town, wt.rig)
    try:
        tip = _tip(node, wt)
    except NodeError as exc:
        return Swept(address, node.name, wt.path, "unreachable", str(exc))
    if tip is not None and tip != "none" and not _has_commit(rig.repo, tip):
        detail = (f"its branch {wt.branch} on node {node.name} is at {tip}, which the town has not fetched: the clone "
                  f"{wt.path} stays until the town holds that commit")
        if (address, tip) not in said:
            said.add((address, tip))
            append_event(town.events_path, "node_clone_kept", ACTOR, agent=address, node=node.name, path=wt.path,
                         branch=wt.branch, commit=tip, reason=detail)
        return Swept(address, node.name, wt.path, "kept", detail)
    # The clone is moved aside whole, then removed: a sweep cut off half-way (the server stopped, the link
    # dropped) leaves the clone complete at its path or not there at all, never half a tree; the next sweep
    # removes what was moved aside.
    path, aside = remote_path(wt.path), remote_path(wt.path.rstrip("/") + ".removing")
    if tip is None:
        run(node, f"rm -rf {aside}", timeout=120)
    else:
        res = run(node, f"rm -rf {aside} && cd {path} && [ \"$(git symbolic-ref -q --short HEAD)\" = "
                        f"{remote_path(wt.branch)} ] && cd / && mv {path} {aside} && rm -rf {aside}", timeout=120)
        if res.returncode != 0:
            return Swept(address, node.name, wt.path, "kept",
                         f"the clone is no longer on {wt.branch} (or could not be removed): left as it is")
    with file_lock(placements_path(town).with_suffix(".lock"), what="node placements lock"):
        current = load_placements(town)
        rec = current.get(address)
        if rec is not None and (rec.get("worktree") or {}).get("branch") == wt.branch:
            del current[address]
            write_json(placements_path(town), {"placements": current})
    append_event(town.events_path, "node_clone_removed", ACTOR, agent=address, node=node.name, path=wt.path,
                 branch=wt.branch, commit=tip if tip not in (None, "none") else None,
                 reason="its polecat was reaped" + ("" if tip is not None else " (the clone was gone already)"))
    return Swept(address, node.name, wt.path, "removed" if tip is not None else "gone")


def sweep(town, said: set | None = None) -> list[Swept]:
    """Cleans the clones of every placed polecat that no longer exists (blocking: ssh and git)."""
    if not placements_path(town).exists():
        return []
    said = said if said is not None else set()
    alive = {p.address for p in list_polecats(town)}
    nodes = load_nodes(town)
    out = []
    for address, rec in load_placements(town).items():
        if address in alive or not isinstance(rec, dict) or not rec.get("worktree"):
            continue
        node = nodes.get(rec.get("node"))
        if node is None:
            continue  # a node removed from the town: nothing to reach (its placements are history)
        try:
            wt = RemoteWorktree(**rec["worktree"])
            out.append(clean_one(town, node, address, wt, said))
        except (UserError, TypeError, OSError, subprocess.SubprocessError) as exc:
            out.append(Swept(address, str(rec.get("node")), str((rec.get("worktree") or {}).get("path")), "kept",
                             f"cannot clean: {exc}"))
    return out
