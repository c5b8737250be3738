"""`gastown sling BEAD TARGET`: put work on a hook.

TARGET is a rig (a polecat is spawned for the work) or an agent address.
The bead is hooked (status hooked, assignee = the address), the formula is
poured as its molecule (default: the rig's, `polecat-work`, for polecats),
and the work is wrapped in a convoy "Work: <title>" unless it already rides
in an open one or `no_convoy`. No process is started: the session manager
starts sessions for hooked agents.

Concurrency: a per-bead lock serialises slings of one bead across processes,
and the hook itself is checked and set inside one ledger transaction; exactly
one of two simultaneous slings wins, the other is refused as already hooked.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from gastown_tui.beads.fields import set_fields
from gastown_tui.errors import UserError, not_found
from gastown_tui.town.layout import Town
from gastown_tui.filelock import file_lock
from gastown_tui.town import molecules
from gastown_tui.town.addresses import parse_address
from gastown_tui.town.ralph import apply_to_molecule
from gastown_tui.town.budget import check_new_work
from gastown_tui.town.agents import known_addresses, resolve_address, current_agent, set_agent_state
from gastown_tui.town.convoys import convoys_tracking, create_convoy
from gastown_tui.town.events import append_event
from gastown_tui.town.hooks import check_hookable, hook_bead, hooked_work
from gastown_tui.town.ledgers import get_bead, prefix_of, open_ledger
from gastown_tui.town.polecats import _discard, spawn_polecat
from gastown_tui.town.rigs import Rig, get_rig, load_registry


@dataclass
class SlingResult:
    bead: str
    agent: str
    spawned: bool
    worktree: str | None
    branch: str | None
    molecule: str | None
    formula: str | None
    convoy: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def _parse_target(town: Town, target: str) -> Rig | str:
    """The Rig (a new polecat there does the work) or the agent's address."""
    target = target.strip()
    registry = load_registry(town)
    if target.rstrip("/") in registry:
        return get_rig(town, target.rstrip("/"))
    if "/" in target or target in ("mayor", "deacon", "boot"):
        return resolve_address(town, target, allow_overseer=False)
    raise not_found("rig or address", target, list(registry) + known_addresses(town))


def sling(town: Town, bead_id: str, target: str, formula: str | None = None, vars: dict | None = None,
          no_convoy: bool = False, force: bool = False, actor: str | None = None,
          ralph: dict | None = None) -> SlingResult:
    """RALPH ({check, max_attempts, timeout}, any may be None): every step of the molecule becomes a Ralph
    step (town/ralph.py), its acceptance text the agent's goal."""
    actor = actor or current_agent()
    ledger, issue = get_bead(town, bead_id)        # NotFound names the nearest ids
    dest = _parse_target(town, target)
    if isinstance(dest, Rig):
        rig: Rig | None = dest
    else:
        agent_rig = parse_address(dest).rig
        rig = get_rig(town, agent_rig) if agent_rig else None
    if rig is not None and prefix_of(bead_id) not in ("hq", rig.prefix):
        raise UserError(f"bead {bead_id} belongs to another rig's ledger (prefix {prefix_of(bead_id)!r}); "
                        f"sling it to its own rig, not {rig.name}")

    agent_ledger = open_ledger(rig.beads_dir) if rig is not None else ledger
    check_new_work(town, rig.name if rig else None, bead_id)     # a tripped budget breaker refuses the sling
    if ralph is not None and not ralph.get("check") and not (rig is not None and rig.gate):
        raise UserError(f"--ralph needs a check: pass --check CMD ({'rig ' + rig.name if rig else 'the target'} "
                        "has no gate to use instead)")
    spawned = None
    hooked_to = None
    with file_lock(town.locks_dir() / "sling" / f"{bead_id}.lock", what=f"sling lock for {bead_id}"):
        try:
            # One transaction per ledger: every ledger change below is written once at the end,
            # or not at all if anything fails (the ledger throws the half-applied changes away).
            with agent_ledger.transaction(), ledger.transaction():
                issue = ledger.get(bead_id)
                check_hookable(issue, dest if isinstance(dest, str) else "", force)
                if isinstance(dest, str):
                    address = dest
                    if not force:
                        current = hooked_work(town, address)
                        if current is not None and current.id != bead_id:
                            raise UserError(f"{address} already has {current.id} on its hook; finish or clear "
                                            f"it first (`gastown hook clear {address}`) or use --force")
                else:
                    spawned = spawn_polecat(town, dest.name, bead_id=bead_id, actor=actor, state="spawning")
                    address = spawned.address
                role = parse_address(address).role
                issue = hook_bead(town, bead_id, address, force=force, actor=actor, ledger=ledger,
                                  dispatched_by=actor)
                hooked_to = address
                if formula is None and role == "polecat":
                    if rig is None:     # a polecat's address names its rig
                        raise UserError(f"{address} is a polecat of no rig")
                    formula = rig.settings.default_formula
                molecule = None
                if formula:
                    fvars = {"issue": bead_id, "base_branch": rig.target if rig else "main"}
                    if rig is not None and rig.gate:
                        fvars["test_command"] = rig.gate
                    fvars.update(vars or {})
                    molecule = molecules.attach(town, ledger, bead_id, formula, fvars, rig.path if rig else None)
                if ralph is not None:
                    if molecule is None:
                        raise UserError("--ralph needs a molecule: give --formula (the work has none)")
                    apply_to_molecule(ledger, molecule, ralph.get("check"), ralph.get("max_attempts"),
                                      ralph.get("timeout"), default_check=rig.gate if rig is not None else None)
                convoy = None
                if not no_convoy:
                    existing = convoys_tracking(town, bead_id)
                    convoy = existing[0] if existing else create_convoy(town, f"Work: {issue.title}", [bead_id],
                                                                        actor=actor)
                    if not existing:
                        cur = ledger.get(bead_id)
                        ledger.update(bead_id, description=set_fields(cur.description, convoy_id=convoy))
                set_agent_state(town, address, "working", hook=bead_id)
        except BaseException:
            if hooked_to is not None:      # the hook event was logged, but the ledger kept nothing
                append_event(town.events_path, "unhook", actor, agent=hooked_to, bead=bead_id,
                             reason="sling failed; nothing was kept")
            if spawned is not None and isinstance(dest, Rig):      # only a rig target spawns
                _discard(dest, spawned.name, spawned.branch)
                append_event(town.events_path, "polecat_removed", actor, agent=spawned.address,
                             branch=spawned.branch, reason=f"sling of {bead_id} failed")
            raise
    append_event(town.events_path, "sling", actor, bead=bead_id, agent=address, target=target,
                 formula=formula, molecule=molecule, convoy=convoy, spawned=spawned is not None)
    return SlingResult(bead_id, address, spawned is not None, spawned.worktree if spawned else None,
                       spawned.branch if spawned else None, molecule, formula, convoy)
