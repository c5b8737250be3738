"""The hook's molecule: pouring a formula onto a hooked bead and reading its steps (through meow)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gastown_tui.town.layout import Town
from gastown_tui.beads.fields import set_fields, parse_fields
from gastown_tui.meow import formula_search_path, pour, progress
from gastown_tui.meow.tracking import LazyProgress

if TYPE_CHECKING:   # the models load pydantic
    from gastown_tui.beads.ledger import Ledger
    from gastown_tui.beads.models import Issue


def search_path(town: Town, rig_dir: Path | None = None) -> list[Path]:
    return formula_search_path(rig_dir=rig_dir, town_dir=town.root)


def attach(town: Town, ledger: Ledger, bead_id: str, formula: str, vars: dict, rig_dir: Path | None = None) -> str:
    """Pours FORMULA as BEAD_ID's molecule (in the bead's ledger) and links it; returns the root id."""
    current, current_formula = attached(ledger.get(bead_id))
    if current and current_formula == formula and ledger.find(current) is not None:
        return current          # re-slung work keeps its molecule and the progress made on it
    root = pour(ledger, formula, bead_id, dict(vars), search_path(town, rig_dir), force=bool(current))
    with ledger.transaction():
        issue = ledger.get(bead_id)
        desc = set_fields(issue.description, attached_molecule=root, attached_formula=formula)
        if desc != issue.description:
            ledger.update(bead_id, description=desc)
    return root


def attached(issue: Issue | dict) -> tuple[str | None, str | None]:
    """(molecule root id, formula name) linked from a hooked bead's description."""
    desc = issue.get("description") if isinstance(issue, dict) else issue.description
    fields = parse_fields(desc)
    return fields.get("attached_molecule"), fields.get("attached_formula")


def view(ledger: Ledger, root_id: str, formula: str | None) -> tuple[dict, str | None]:
    """({"id", "formula", "steps": [{id, title, description, status, ready}]}, next step id).

    For a big lazy wisp "steps" holds only the steps around the next one, and "total", "done" and
    "first_shown" (the index of the first step listed) say where they are."""
    prog = progress(ledger, root_id)
    steps = []
    # a big lazy wisp: the steps around the next one
    for st in (prog.window() if isinstance(prog, LazyProgress) else prog.steps):
        steps.append({"id": st.id, "title": st.title, "description": st.description,
                      "status": st.status, "ready": bool(st.ready)})
    nxt = prog.next
    next_id = nxt.id if nxt is not None else None
    out: dict[str, object] = {"id": prog.root, "formula": formula or prog.formula, "steps": steps}
    if isinstance(prog, LazyProgress):
        out.update(total=prog.total, done=prog.done, first_shown=max(0, min(prog.first_open, prog.total) - 3))
    return out, next_id
