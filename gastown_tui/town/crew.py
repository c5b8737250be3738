"""Crew: long-lived, named agent workspaces (full clones at `<rig>/crew/<name>/`).

The Overseer works with crew directly; the Witness does not manage them.
"""
from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass

from gastown_tui.errors import UserError, not_found
from gastown_tui.town.layout import Town
from gastown_tui.town.rigs import RIG_NAME, get_rig
from gastown_tui import vcs
from gastown_tui.town.agents import ensure_agent_bead, rig_members, set_agent_state
from gastown_tui.town.events import append_event
from gastown_tui.town.hooks import unhook_agent
from gastown_tui.vcs.fastref import read_branch


@dataclass
class CrewMember:
    name: str
    rig: str
    address: str
    path: str
    branch: str | None
    agent_state: str | None
    hook_bead: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def add_crew(town: Town, rig_name: str, name: str, actor: str = "overseer") -> CrewMember:
    rig = get_rig(town, rig_name)
    if not RIG_NAME.match(name or ""):
        raise UserError(f"invalid crew name {name!r}: use letters, digits, '-' and '_'")
    path = rig.crew_dir / name
    if path.exists():
        raise UserError(f"crew member {rig_name}/crew/{name} already exists")
    address = f"{rig.name}/crew/{name}"
    try:
        vcs.clone(rig.repo, path)
        ensure_agent_bead(town, address, rig=rig)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    append_event(town.events_path, "crew_added", actor, agent=address, path=str(path))
    return CrewMember(name, rig.name, address, str(path), vcs.current_branch(path), "idle", None)


def list_crew(town: Town, rig_name: str | None = None) -> list[CrewMember]:
    return [CrewMember(folder.name, rig.name, f"{rig.name}/crew/{folder.name}", str(folder),
                       read_branch(folder), bead.agent_state if bead else None, bead.hook_bead if bead else None)
            for rig, folder, bead in rig_members(town, "crew", rig_name)]


def remove_crew(town: Town, rig_name: str, name: str, force: bool = False, actor: str = "overseer") -> None:
    """Removes a crew clone; refuses while it holds uncommitted or unpushed work unless FORCE."""
    rig = get_rig(town, rig_name)
    path = rig.crew_dir / name
    if not path.is_dir():
        raise not_found("crew member", f"{rig_name}/crew/{name}", [c.address for c in list_crew(town, rig_name)])
    address = f"{rig.name}/crew/{name}"
    if not force and (path / ".git").exists():
        dirty = vcs.dirty_paths(path)
        vcs.fetch(path)
        branch = vcs.current_branch(path)
        unpushed = []
        if branch:
            upstream = f"origin/{branch}" if vcs.rev_parse(path, f"origin/{branch}") else f"origin/{rig.target}"
            unpushed = vcs.unmerged_commits(path, branch, upstream)
        if dirty or unpushed:
            parts = []
            if unpushed:
                parts.append(f"{len(unpushed)} unpushed commit(s): "
                             + "; ".join(f"{s[:8]} {m}" for s, m in unpushed[:5]))
            if dirty:
                parts.append(f"uncommitted changes in {', '.join(dirty[:10])}")
            raise UserError(f"refusing to remove {address}: it would lose {' and '.join(parts)} (use --force)")
    unhook_agent(town, address, actor=actor, reason="crew removed")
    shutil.rmtree(path)
    try:
        set_agent_state(town, address, "nuked", hook=None)
    except UserError:
        pass
    append_event(town.events_path, "crew_removed", actor, agent=address, forced=force)
