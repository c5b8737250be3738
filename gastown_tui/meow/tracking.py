"""Where a molecule stands: which steps are done, which are ready, which comes next.

Everything is read from the ledger each time, so an agent that dies between
steps loses nothing: the next session asks again and carries on. Ready means
the ledger's ready rules (open or in progress, nothing blocking it).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, overload

from gastown_tui.beads.fields import parse_fields
from gastown_tui.meow.errors import MoleculeError
from gastown_tui.meow.molecule import (LazyState, iter_step_records, lazy_steps, molecule_root, step_records_of,
                                      uses_wisps)

if TYPE_CHECKING:
    from gastown_tui.beads.ledger import Ledger
    from gastown_tui.beads.models import Issue
    from gastown_tui.beads.wispsteps import WispSteps


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
    steps: Sequence[StepState]      # a list; a lazy wisp's LazySteps

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


def _step_state(rec: dict, rid: str, ready: bool, blocked_by: Iterable[str] = ()) -> StepState:
    labels = rec.get("labels") or []
    kind = rec.get("issue_type") or "task"
    if kind == "task" and "human" in labels:
        kind = "human"
    return StepState(
        id=rec["id"], step=rec["id"].removeprefix(rid + "."), title=rec.get("title", ""),
        status=rec.get("status") or "open", ready=ready,
        description=rec.get("description", ""), acceptance=rec.get("acceptance_criteria", ""),
        assignee=rec.get("assignee"), blocked_by=list(blocked_by), kind=kind,
    )


WAITING_TYPES = ("blocks", "conditional-blocks", "waits-for")


class LazySteps(Sequence[StepState]):
    """The steps of a lazy wisp as a read-only sequence of StepStates, made as they are read."""

    def __init__(self, ledger: Ledger, root: dict, state: LazyState):
        self.ledger, self.root, self.state = ledger, root, state
        self.rid = root["id"]

    def __len__(self) -> int:
        return self.state.total

    def _needs(self, rec: dict) -> list[str]:
        return [d["depends_on_id"] for d in rec.get("dependencies") or ()
                if d.get("type") in WAITING_TYPES and d.get("depends_on_id") != self.rid]

    def _closed(self, step_id: str, seen: dict) -> bool:
        if step_id in seen:
            return seen[step_id]
        rec = self.ledger.raw_find(step_id)
        return rec is not None and rec.get("status") == "closed"

    def state_of(self, rec: dict, seen: dict | None = None) -> StepState:
        seen = {} if seen is None else seen
        status = rec.get("status") or "open"
        waits = [n for n in self._needs(rec) if not self._closed(n, seen)]
        ready = status in ("open", "in_progress") and not waits
        return _step_state(rec, self.rid, ready, waits)

    def iter_from(self, start: int) -> Iterator[StepState]:
        seen: dict[str, bool] = {}
        for rec in iter_step_records(self.ledger, self.root, start):
            st = self.state_of(rec, seen)
            seen[rec["id"]] = st.done
            if len(seen) > 4096:
                seen.clear()
                seen[rec["id"]] = st.done
            yield st

    def __iter__(self) -> Iterator[StepState]:
        return self.iter_from(0)

    @overload
    def __getitem__(self, index: int) -> StepState: ...

    @overload
    def __getitem__(self, index: slice) -> list[StepState]: ...

    def __getitem__(self, index: int | slice) -> StepState | list[StepState]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return list(self)[index]
            return [st for st, _ in zip(self.iter_from(start), range(max(0, stop - start)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.state_of(self.state.steps.record(index) if index not in self.state.stored
                             else self.state.stored[index])


@dataclass
class LazyProgress(Progress):
    """Progress of a lazy wisp: counts from its close log; steps made only as they are read."""

    lazy: LazySteps         # the same object as `steps`, with the lazy wisp's own reads

    @property
    def total(self) -> int:
        return self.lazy.state.total

    @property
    def done(self) -> int:
        return self.lazy.state.done

    @property
    def ready(self) -> list[StepState]:
        """Every ready step: a scan from the first open step (long for a long chain)."""
        return [s for s in self.lazy.iter_from(self.lazy.state.first_open) if s.ready]

    @property
    def next(self) -> StepState | None:
        state = self.lazy.state
        for index in state.in_progress:
            st = self.lazy[index]
            if st.ready:
                return st
        if state.first_open >= state.total:
            return None
        st = self.lazy[state.first_open]
        if st.ready:
            return st
        return next((s for s in self.lazy.iter_from(state.first_open) if s.ready), None)

    @property
    def first_open(self) -> int:
        return self.lazy.state.first_open

    def window(self, before: int = 3, after: int = 8) -> list[StepState]:
        """The steps around the next one (a few done, the next, a few to come), in order."""
        start = max(0, min(self.first_open, self.total) - before)
        return self.lazy[start:min(self.total, self.first_open + after + 1)]

    def to_json(self, with_steps: bool = True) -> dict:
        nxt = self.next
        data: dict[str, object] = {
            "id": self.root, "formula": self.formula, "title": self.title, "status": self.status,
            "ephemeral": self.ephemeral, "attached_to": self.attached_to,
            "done": self.done, "total": self.total, "complete": self.complete,
            "next_step": nxt.id if nxt else None,
            "ready": [nxt.id] if nxt is not None and self.total > LIST_READY_MAX else [s.id for s in self.ready],
        }
        if with_steps:
            data["steps"] = [dict(asdict(s), done=s.done) for s in self.steps]
        return data


LIST_READY_MAX = 20_000     # bigger lazy wisps list only the next step as ready (a full scan takes seconds)


def progress(ledger: Ledger, root_id: str) -> Progress:
    """The molecule's steps in formula order with their state. `root_id` may be a step or the bead worked on."""
    root = molecule_root(ledger, root_id)
    rid = root["id"]
    if lazy_steps(ledger, root) is not None:
        fields = parse_fields(root.get("description"))
        lazy = LazySteps(ledger, root, LazyState(ledger, root))
        return LazyProgress(
            root=rid, formula=fields.get("formula") or root.get("source_formula"), title=root.get("title", ""),
            status=root.get("status") or "open", ephemeral=True, attached_to=fields.get("attached_to"),
            steps=lazy, lazy=lazy,
        )
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


def next_step(ledger: Ledger, root_id: str) -> Issue | None:
    """The step bead (an Issue) an agent should do next, or None when nothing is ready."""
    nxt = progress(ledger, root_id).next
    return None if nxt is None else ledger.get(nxt.id)


def close_step(ledger: Ledger, step_id: str, reason: str | None = None, *, actor: str | None = None,
               force: bool = False) -> Issue | dict:
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
        lazy = lazy_steps(ledger, root)
        if lazy is not None:
            return _close_lazy(ledger, root, lazy, step_id, rec, reason, actor)
        step = ledger.close(step_id, reason=reason or "done", actor=actor)
        index = ledger.blocked_index(wisps=uses_wisps(root))
        kids = index.children.get(root["id"], ())
        if kids and all((index.records[k].get("status") == "closed") for k in kids if k in index.records):
            if (root.get("status") or "open") != "closed":
                ledger.close(root["id"], reason="all steps closed", actor=actor)
        return step


def _close_lazy(ledger: Ledger, root: dict, lazy: WispSteps, step_id: str, rec: dict, reason: str | None,
                actor: str | None) -> Issue | dict:
    """Closes a lazy wisp's step: one line appended to its close log (a stored step is updated instead)."""
    stored = step_id in ledger._wstore().records
    if stored:
        step = ledger.close(step_id, reason=reason or "done", actor=actor)
    else:
        index = lazy.index_of(step_id)
        if index is None:
            raise MoleculeError(f"{step_id} is not a step of wisp {root['id']}")
        lazy.log.close(index, reason or "done")
        step = ledger._wrap(lazy.record(index))
    maybe_last = stored or lazy.log.first_open >= lazy.count
    if maybe_last and LazyState(ledger, root).done == lazy.count and (root.get("status") or "open") != "closed":
        lazy.log.flush()
        ledger.close(root["id"], reason="all steps closed", actor=actor)
    return step


CHECKLIST_WINDOW = 200      # a molecule with more steps lists the ones around the next step


def checklist(ledger: Ledger, root_id: str) -> str:
    """The text an agent reads on start (`gt prime`): every step, its state, and what to do next."""
    p = progress(ledger, root_id)
    kind = "wisp" if p.ephemeral else "molecule"
    head = f"{kind} {p.root}" + (f" ({p.formula})" if p.formula else "")
    if p.attached_to:
        head += f", working on {p.attached_to}"
    lines = [f"{head}: {p.done}/{p.total} steps done", ""]
    nxt = p.next
    shown = p.steps
    later = 0           # steps after the window shown
    if isinstance(p, LazyProgress) and p.total > CHECKLIST_WINDOW:
        shown = p.window()
        first = max(0, min(p.first_open, p.total) - 3)
        if first:
            lines.append(f"... {first:,} earlier steps")
        later = p.total - min(p.total, p.first_open + 9)
    for s in shown:
        mark = "x" if s.done else (">" if nxt is not None and s.id == nxt.id else ("~" if s.status == "in_progress" else " "))
        note = ""
        if not s.done and not s.ready and s.blocked_by:
            waits = [b.removeprefix(p.root + ".") for b in s.blocked_by if b != p.root]
            if waits:
                note = f"  (after {', '.join(waits)})"
        human = "  [a person does this step]" if s.kind == "human" else ""
        lines.append(f"[{mark}] {s.step}: {s.title}{human}{note}")
    if later > 0:
        lines.append(f"... {later:,} more steps")
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
