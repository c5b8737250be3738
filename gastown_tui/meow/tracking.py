"""Where a molecule stands: which steps are done, which are ready, which comes next.

Everything is read from the ledger each time, so an agent that dies between
steps loses nothing: the next session asks again and carries on. Ready means
the ledger's ready rules (open or in progress, nothing blocking it).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from gastown_tui.beads.fields import parse_fields
from gastown_tui.meow.errors import MoleculeError
from gastown_tui.meow.molecule import molecule_root, step_records_of, uses_wisps


@dataclass
class StepState:
    id: str                 # the step bead's id, `<root>.<step>`
    step: str               # the formula's step id
    title: str
    status: str
    ready: bool
    description: str = ""
    acceptance: str = ""
    assignee: str | None = None
    blocked_by: list[str] = field(default_factory=list)
    kind: str = "task"      # the step's issue type, or its formula `type` (e.g. human)
    ralph: dict | None = None   # a Ralph step's spec and attempts (`metadata.ralph`, see town/ralph.py)

    @property
    def done(self) -> bool:
        return self.status == "closed"


@dataclass
class Progress:
    root: str
    formula: str | None
    title: str
    status: str
    ephemeral: bool
    attached_to: str | None
    steps: list[StepState]

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def done(self) -> int:
        return sum(1 for s in self.steps if s.done)

    @property
    def ready(self) -> list[StepState]:
        return [s for s in self.steps if s.ready]

    @property
    def next(self) -> StepState | None:
        """The step to do now: one already in progress, else the first ready one in formula order."""
        ready = self.ready
        for s in ready:
            if s.status == "in_progress":
                return s
        return ready[0] if ready else None

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done == self.total

    def to_json(self) -> dict:
        nxt = self.next
        return {
            "id": self.root, "formula": self.formula, "title": self.title, "status": self.status,
            "ephemeral": self.ephemeral, "attached_to": self.attached_to,
            "done": self.done, "total": self.total, "complete": self.complete,
            "next_step": nxt.id if nxt else None,
            "ready": [s.id for s in self.ready],
            "steps": [dict(asdict(s), done=s.done) for s in self.steps],
        }


def progress(ledger, root_id: str) -> Progress:
    """The molecule's steps in formula order with their state. `root_id` may be a step or the bead worked on."""
    root = molecule_root(ledger, root_id)
    rid = root["id"]
    wisps = uses_wisps(root)         # a persistent molecule is read without loading the wisp store
    index = ledger.blocked_index(wisps=wisps)
    kids = step_records_of(ledger, rid, wisps)
    ready_ids = {r["id"] for r in ledger.raw_ready(parent=rid, wisps=wisps)}
    steps = []
    for rec in kids:
        labels = rec.get("labels") or []
        kind = rec.get("issue_type") or "task"
        if kind == "task" and "human" in labels:
            kind = "human"
        steps.append(StepState(
            id=rec["id"], step=rec["id"].removeprefix(rid + "."), title=rec.get("title", ""),
            status=rec.get("status") or "open", ready=rec["id"] in ready_ids,
            description=rec.get("description", ""), acceptance=rec.get("acceptance_criteria", ""),
            assignee=rec.get("assignee"), blocked_by=list(index.blockers.get(rec["id"], ())), kind=kind,
            ralph=(rec.get("metadata") or {}).get("ralph") if isinstance(rec.get("metadata"), dict) else None,
        ))
    fields = parse_fields(root.get("description"))
    return Progress(
        root=rid, formula=fields.get("formula") or root.get("source_formula"), title=root.get("title", ""),
        status=root.get("status") or "open", ephemeral=bool(root.get("ephemeral")),
        attached_to=fields.get("attached_to"), steps=steps,
    )


def next_step(ledger, root_id: str):
    """The step bead (an Issue) an agent should do next, or None when nothing is ready."""
    nxt = progress(ledger, root_id).next
    return None if nxt is None else ledger.get(nxt.id)


def close_step(ledger, step_id: str, reason: str | None = None, *, actor: str | None = None,
               force: bool = False):
    """Closes one step (refusing while steps it needs are open, unless `force`); returns it.

    When the last step closes, the molecule's root is closed too.
    """
    with ledger.transaction():
        rec = ledger.raw(step_id)
        root = molecule_root(ledger, step_id)
        if root["id"] == step_id:
            raise MoleculeError(f"{step_id} is a molecule, not a step; close its steps (see `gastown mol progress {step_id}`)")
        if rec.get("status") == "closed":
            raise MoleculeError(f"step {step_id} is already closed")
        if not force:
            blockers = [b for b in ledger.blockers(step_id) if b != root["id"]]
            if blockers:
                raise MoleculeError(f"step {step_id} is waiting for {', '.join(blockers)}; do those first")
        step = ledger.close(step_id, reason=reason or "done", actor=actor)
        index = ledger.blocked_index(wisps=uses_wisps(root))
        kids = index.children.get(root["id"], ())
        if kids and all((index.records[k].get("status") == "closed") for k in kids if k in index.records):
            if (root.get("status") or "open") != "closed":
                ledger.close(root["id"], reason="all steps closed", actor=actor)
        return step


def checklist(ledger, root_id: str) -> str:
    """The text an agent reads on start (`gt prime`): every step, its state, and what to do next."""
    p = progress(ledger, root_id)
    kind = "wisp" if p.ephemeral else "molecule"
    head = f"{kind} {p.root}" + (f" ({p.formula})" if p.formula else "")
    if p.attached_to:
        head += f", working on {p.attached_to}"
    lines = [f"{head}: {p.done}/{p.total} steps done", ""]
    nxt = p.next
    for s in p.steps:
        mark = "x" if s.done else (">" if nxt is not None and s.id == nxt.id else ("~" if s.status == "in_progress" else " "))
        note = ""
        if not s.done and not s.ready and s.blocked_by:
            waits = [b.removeprefix(p.root + ".") for b in s.blocked_by if b != p.root]
            if waits:
                note = f"  (after {', '.join(waits)})"
        human = "  [a person does this step]" if s.kind == "human" else ""
        lines.append(f"[{mark}] {s.step}: {s.title}{human}{note}")
    lines.append("")
    if p.complete:
        lines.append("All steps are done.")
    elif nxt is None:
        lines.append("No step is ready: every open step waits for another one.")
    else:
        lines.append(f"Next step: {nxt.id}")
        lines.append(f"  {nxt.title}")
        if nxt.description:
            lines += ["", *("  " + ln if ln else "" for ln in nxt.description.splitlines())]
        if nxt.acceptance:
            lines += ["", f"  Done when: {nxt.acceptance}"]
        lines += ["", f"When it is done, run: gt mol done {nxt.id}"]
    return "\n".join(lines)
