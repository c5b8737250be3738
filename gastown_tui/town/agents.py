"""Agent identities: agent beads, workdirs, environments, and the list of agents.

Agent bead ids are Gas Town's: `hq-mayor`, `hq-deacon`, `hq-boot` in the town
ledger; `<prefix>-<rig>-witness`, `<prefix>-<rig>-refinery`,
`<prefix>-<rig>-polecat-<name>`, `<prefix>-<rig>-crew-<name>` in the rig's.
Each is type `agent`, label `gt:agent`, with the native fields `agent_state`,
`hook_bead`, `last_activity`, `role_type`, `rig` and the same values as
`key: value` lines in its description.
States used (Gas Town's): spawning, working, done, stuck, escalated, idle, running, nuked.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gastown_tui.errors import UserError, not_found
from gastown_tui.town.addresses import Address, parse_address
from gastown_tui.town.layout import Town
from gastown_tui.beads import Ledger
from gastown_tui.beads.fields import set_fields
from gastown_tui.timestamps import now
from gastown_tui.town.ledgers import rig_ledger, town_ledger, open_ledger
from gastown_tui.town.rig_registry import Rig, get_rig, list_rigs

if TYPE_CHECKING:   # the models load pydantic
    from gastown_tui.beads.models import Issue

AGENT_STATES = ("spawning", "working", "done", "stuck", "escalated", "idle", "running", "nuked")


@dataclass
class AgentInfo:
    address: str
    role: str
    rig: str | None
    name: str | None
    agent_state: str
    hook_bead: str | None
    hook_title: str | None
    molecule: str | None
    updated_at: str
    bead_id: str | None = None
    workdir: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def parse(address: str) -> Address:
    try:
        return parse_address(address)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def agent_bead_id(town: Town, address: str) -> str | None:
    """The agent bead id for ADDRESS (None for the overseer, who is a person)."""
    a = parse(address)
    if a.role in ("mayor", "deacon", "boot"):
        return f"hq-{a.role}"
    if a.role == "overseer":
        return None
    if a.rig is None:       # every other role's address names its rig
        raise UserError(f"{address}: not a rig agent's address")
    rig = get_rig(town, a.rig)
    if a.role in ("witness", "refinery"):
        return f"{rig.prefix}-{a.rig}-{a.role}"
    return f"{rig.prefix}-{a.rig}-{a.role}-{a.name}"


def agent_ledger(town: Town, address: str) -> Ledger:
    a = parse(address)
    return rig_ledger(town, a.rig) if a.rig else town_ledger(town)


def workdir(town: Town, address: str) -> Path | None:
    """Where the agent's session runs (None for the overseer)."""
    a = parse(address)
    root = town.root
    return {
        "mayor": root / "mayor",
        "deacon": root / "deacon",
        "boot": root / "deacon" / "dogs" / "boot",
        "overseer": None,
        "witness": root / (a.rig or "") / "witness",
        "refinery": root / (a.rig or "") / "refinery" / "rig",
        "polecat": root / (a.rig or "") / "polecats" / (a.name or "") / (a.rig or ""),
        "crew": root / (a.rig or "") / "crew" / (a.name or ""),
    }[a.role]


def environment(town: Town, address: str, base: dict | None = None) -> dict[str, str]:
    """The environment an agent's session gets: GT_TOWN, GT_RIG, GT_ROLE, GT_AGENT, BD_ACTOR, BEADS_DIR, PATH."""
    a = parse(address)
    env = dict(base or {})
    env.update({"GT_TOWN": str(town.root), "GT_ROLE": a.role, "GT_AGENT": str(a), "BD_ACTOR": str(a)})
    if a.rig:
        env["GT_RIG"] = a.rig
        env["BEADS_DIR"] = str(town.rig_dir(a.rig) / ".beads")
    else:
        env["BEADS_DIR"] = str(town.beads_dir)
    if a.role == "polecat":
        env["GT_POLECAT"] = a.name
    if a.role == "crew":
        env["GT_CREW"] = a.name
    path = (base or os.environ).get("PATH", os.defpath)
    env["PATH"] = f"{town.shims_dir}{os.pathsep}{path}"
    return env


def _description(a: Address, state: str, hook: str | None, extra: dict) -> str:
    return set_fields("", role_type=a.role, rig=a.rig, agent_state=state, hook_bead=hook, **extra)


def ensure_agent_bead(town: Town, address: str, state: str = "idle", rig: Rig | None = None) -> Issue | None:
    """Creates the agent bead for ADDRESS when absent (or revives a nuked one); returns it."""
    a = parse(address)
    if a.role == "overseer":
        return None
    if rig is not None:
        ledger = open_ledger(rig.beads_dir)
        bead_id = f"{rig.prefix}-{a.rig}-{a.role}" + (f"-{a.name}" if a.name else "")
    else:
        ledger = agent_ledger(town, address) if a.rig else town_ledger(town)
        known = agent_bead_id(town, address)
        if known is None:       # only the overseer has no agent bead, and it has returned above
            raise UserError(f"{address} has no agent bead")
        bead_id = known
    existing = ledger.find(bead_id)
    stamp = now()
    if existing is not None:
        if existing.agent_state == "nuked" or existing.status == "closed":
            if existing.status == "closed":
                ledger.reopen(bead_id)
            return set_agent_state(town, address, state, hook=None, ledger=ledger, bead_id=bead_id)
        return existing
    return ledger.create(
        f"{a.role} {address}", issue_type="agent", id=bead_id, labels=["gt:agent"], priority=2,
        description=_description(a, state, None, {}), actor=str(a),
        agent_state=state, role_type=a.role, rig=a.rig, last_activity=stamp,
    )


_KEEP = object()


def set_agent_state(town: Town, address: str, state: str | None = None, hook: object = _KEEP,
                    ledger: Ledger | None = None, bead_id: str | None = None, **extra: object) -> Issue | None:
    """Updates an agent bead's state / hook / extra description fields and stamps last_activity."""
    if state is not None and state not in AGENT_STATES:
        raise UserError(f"unknown agent state {state!r} (known: {', '.join(AGENT_STATES)})")
    ledger = ledger or agent_ledger(town, address)
    bead_id = bead_id or agent_bead_id(town, address)
    if bead_id is None:
        return None
    with ledger.transaction():
        issue = ledger.find(bead_id)
        if issue is None:
            raise not_found("agent", address, [])
        fields = dict(extra)
        updates: dict = {"last_activity": now()}
        if state is not None:
            fields["agent_state"] = state
            updates["agent_state"] = state
        if hook is not _KEEP:
            fields["hook_bead"] = hook
            updates["hook_bead"] = hook
        updates["description"] = set_fields(issue.description, **fields)
        return ledger.update(bead_id, actor=str(parse(address)), **updates)


def touch(town: Town, address: str) -> None:
    """Records activity for ADDRESS (last_activity = now) if it has an agent bead."""
    try:
        set_agent_state(town, address)
    except UserError:
        pass


def known_addresses(town: Town) -> list[str]:
    """Every agent address the town knows, town roles first."""
    out = ["mayor/", "deacon/", "boot"]
    for rig in list_rigs(town):
        out += [f"{rig.name}/witness", f"{rig.name}/refinery"]
        for kind, folder in (("polecats", rig.polecats_dir), ("crew", rig.crew_dir)):
            if folder.is_dir():
                out += [f"{rig.name}/{kind}/{p.name}" for p in sorted(folder.iterdir()) if p.is_dir()]
    return out


def resolve_address(town: Town, text: str, allow_overseer: bool = True) -> str:
    """A canonical known address for TEXT (accepts `<rig>/<name>` for a polecat or crew member).

    NotFound names the nearest known addresses.
    """
    known = known_addresses(town)
    if allow_overseer:
        known.append("overseer")
    try:
        canonical = str(parse_address(text))
    except ValueError:
        canonical = None
        rig, sep, name = text.partition("/")
        if sep and name and "/" not in name:
            for kind in ("polecats", "crew"):
                cand = f"{rig}/{kind}/{name}"
                if cand in known:
                    return cand
    if canonical and canonical in known:
        return canonical
    raise not_found("address", text, known)


def current_agent(env: Mapping[str, str] | None = None, default: str = "overseer") -> str:
    """The acting identity: GT_AGENT (or BD_ACTOR) when set, else the overseer."""
    env = os.environ if env is None else env
    return env.get("GT_AGENT") or env.get("BD_ACTOR") or default


def rig_members(town: Town, kind: str, rig_name: str | None = None) -> Iterator[tuple[Rig, Path, Issue | None]]:
    """(rig, folder, agent bead or None) for each polecat (KIND "polecat") or crew member ("crew")
    on disk in RIG_NAME (every rig when None), in folder order; one ledger read per rig."""
    rigs = [get_rig(town, rig_name)] if rig_name else list_rigs(town)
    for rig in rigs:
        parent = rig.polecats_dir if kind == "polecat" else rig.crew_dir
        if not parent.is_dir():
            continue
        ledger = open_ledger(rig.beads_dir)
        for folder in sorted(p for p in parent.iterdir() if p.is_dir()):
            yield rig, folder, ledger.find(f"{rig.prefix}-{rig.name}-{kind}-{folder.name}")
