"""Every agent in the town with its state and hook, from one read of each ledger (no git, no processes)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from gastown_tui.town.agents import AgentInfo, workdir
from gastown_tui.town.layout import Town
from gastown_tui.town import molecules
from gastown_tui.town.addresses import parse_address
from gastown_tui.town.ledgers import open_ledger, town_ledger
from gastown_tui.town.rigs import list_rigs

if TYPE_CHECKING:   # the models load pydantic; the ledgers' list() builds them
    from gastown_tui.beads.ledger import Ledger
    from gastown_tui.beads.models import Issue


def _hooks_by_agent(ledgers: Iterable[Ledger]) -> dict[str, Issue]:
    hooks: dict[str, Issue] = {}
    for ledger in ledgers:
        for issue in ledger.list(status="hooked"):
            if issue.assignee:
                hooks.setdefault(issue.assignee, issue)
    return hooks


def list_agents(town: Town, include_nuked: bool = False) -> list[AgentInfo]:
    rigs = list_rigs(town)
    tl = town_ledger(town)
    rig_ledgers = {r.name: open_ledger(r.beads_dir) for r in rigs if r.beads_dir.is_dir()}
    hooks = _hooks_by_agent([tl, *rig_ledgers.values()])

    def info(address: str, bead: Issue | None) -> AgentInfo:
        a = parse_address(address)
        hook = hooks.get(address)
        mol = molecules.attached(hook)[0] if hook is not None else None
        state = (bead.agent_state if bead is not None else None) or "idle"
        updated = (bead.last_activity or bead.updated_at) if bead is not None else ""
        wd = workdir(town, address)
        return AgentInfo(address, a.role, a.rig, a.name, state, hook.id if hook else None,
                         hook.title if hook else None, mol, updated, bead.id if bead is not None else None,
                         str(wd) if wd else None)

    out = []
    for role in ("mayor", "deacon", "boot"):
        out.append(info(f"{role}/" if role != "boot" else "boot", tl.find(f"hq-{role}")))
    for rig in rigs:
        ledger = rig_ledgers.get(rig.name)
        beads = {b.id: b for b in ledger.list(issue_type="agent", include_closed=True)} if ledger else {}
        out.append(info(f"{rig.name}/witness", beads.get(f"{rig.prefix}-{rig.name}-witness")))
        out.append(info(f"{rig.name}/refinery", beads.get(f"{rig.prefix}-{rig.name}-refinery")))
        for kind, role, folder in (("polecats", "polecat", rig.polecats_dir), ("crew", "crew", rig.crew_dir)):
            names = {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()
            stem = f"{rig.prefix}-{rig.name}-{role}-"
            for bid, bead in beads.items():
                if bid.startswith(stem) and (include_nuked or bead.agent_state != "nuked"):
                    names.add(bid[len(stem):])
            for name in sorted(names):
                out.append(info(f"{rig.name}/{kind}/{name}", beads.get(f"{stem}{name}")))
    return out
