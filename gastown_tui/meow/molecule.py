"""Molecules and wisps in the ledger: pour, wisp, squash, burn.

A molecule is a root bead (`issue_type: molecule`, id `<prefix>-mol-<hash>`)
with one child per proto step, id `<root>.<step-id>`, each with a
`parent-child` edge to the root and a `blocks` edge to every step it needs.
A wisp has the same shape in the git-ignored wisp store (`<prefix>-wisp-<hash>`,
`ephemeral`), so it never enters `issues.jsonl`.

The root's description carries `formula:`, `formula_vars:` and (when poured
on a bead) `attached_to:` lines; the bead worked on gets `attached_molecule:`
and `attached_formula:` lines (reference/gastown.md §4.1).
Steps are streamed into the ledger (`ledger.bulk_create`), so a wisp of a
million steps is never held in memory.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from gastown_tui.beads.fields import parse_fields, set_fields
from gastown_tui.timestamps import now
from gastown_tui.meow.errors import MoleculeError
from gastown_tui.meow.step_record import MAX_TITLE, step_record, title as _title  # noqa: F401 (re-exported)
from gastown_tui.beads.actors import default_actor

if TYPE_CHECKING:   # the cooking engine is imported only when something is poured
    from gastown_tui.beads.ledger import Ledger
    from gastown_tui.beads.models import Issue
    from gastown_tui.beads.wispsteps import WispSteps
    from gastown_tui.meow.proto import Proto
    from gastown_tui.meow.search import FormulaLibrary

def as_record(bead: Issue | dict) -> dict:
    """A ledger result as a plain record (Ledger returns Issue models, RawLedger dicts)."""
    return bead if isinstance(bead, dict) else bead.to_record()


def _with_work_vars(ledger: Ledger, on: str | None, vars: dict | None) -> dict:
    """As Gas Town's sling does: a molecule poured on a bead gets `issue` = its id and `feature` =
    its title, unless given (formulas that do not declare them ignore them)."""
    out = dict(vars or {})
    if on is not None:
        rec = ledger.raw(on)        # NotFound names the nearest ids
        out.setdefault("issue", on)
        out.setdefault("feature", rec.get("title", on))
    return out


def _proto(name_or_proto: str | Proto, vars: dict | None,
           search_path: list[Path] | FormulaLibrary | None) -> Proto:
    # Deferred on purpose: the cooking engine (proto -> expand) is for pouring; progress and
    # checklists (what `gastown prime` reads) never cook (tests/meow/test_package.py).
    from gastown_tui.meow.proto import Proto, cook

    if isinstance(name_or_proto, Proto):
        return name_or_proto
    return cook(name_or_proto, dict(vars or {}), search_path)


def step_records(root_id: str, proto: Proto, actor: str, ts: str) -> Iterator[dict]:
    """One bead record per proto step, produced lazily (edges carry no `created_by`: it is optional)."""
    for index, step in enumerate(proto.iter_steps()):
        yield step_record(root_id, step, index, ts)


def _instantiate(ledger: Ledger, proto: Proto, *, ephemeral: bool, on: str | None, actor: str | None,
                 force: bool, mol_type: str | None, lazy: bool | None = None) -> dict:
    actor = actor or default_actor()
    created: list[str] = []
    count = None
    if ephemeral and lazy is not False:
        # deferred: the lazy-wisp machinery (formula seeking) loads only for a molecule big enough to need it
        from gastown_tui.meow.lazywisp import LAZY_MIN_STEPS, step_count

        count = step_count(proto)          # seconds faster than producing them: sizes per expansion
        if not lazy and count < LAZY_MIN_STEPS:
            count = None                   # a small wisp is stored bead by bead, as always
    try:
        return _instantiate_tx(ledger, proto, ephemeral, on, actor, force, mol_type, created, count)
    except BaseException:
        # Steps are cooked while they stream into the ledger, so a formula can still fail part way
        # (a runaway recursion, arithmetic on a word). The ledger's bulk insert saves what came before
        # it (our root) first; take that back out so a failed pour leaves nothing behind.
        left = [bead_id for bead_id in created if ledger.raw_find(bead_id) is not None]
        if left:
            ledger.delete_many(left)
        raise


def _instantiate_tx(ledger: Ledger, proto: Proto, ephemeral: bool, on: str | None, actor: str, force: bool,
                    mol_type: str | None, created: list[str], lazy_count: int | None = None) -> dict:
    with ledger.transaction():
        work = None
        if on is not None:
            work = ledger.raw(on)   # NotFound names the nearest ids
            existing = parse_fields(work.get("description")).get("attached_molecule")
            if existing and ledger.raw_find(existing) is not None:
                if not force:
                    raise MoleculeError(
                        f"bead {on} already has molecule {existing} attached; burn it first"
                        " (`gastown mol burn`) or pour with --force"
                    )
                burn(ledger, existing)
        description = proto.description.strip()
        fields = {"formula": proto.formula.name}
        if proto.vars:
            fields["formula_vars"] = json.dumps(proto.vars, sort_keys=True, ensure_ascii=False)
        if on is not None:
            fields["attached_to"] = on
        description = set_fields(description, **fields)
        title = proto.formula.name + (f": {work.get('title', on)}" if work is not None else "")
        extra = {"source_formula": proto.formula.name}
        if mol_type:
            extra["mol_type"] = mol_type
        if lazy_count is not None:
            # deferred: lazy wisps only
            from gastown_tui.beads.wispsteps import FIELD

            extra[FIELD] = "formula"       # steps made on demand from the formula (lazywisp.py)
        root = as_record(ledger.create(
            _title(title), issue_type="molecule", description=description,
            infix="wisp" if ephemeral else "mol", ephemeral=ephemeral, actor=actor, **extra,
        ))
        root_id = root["id"]
        created.append(root_id)
        if lazy_count is not None:
            # deferred: lazy wisps only
            from gastown_tui.meow.lazywisp import write_steps_dir

            write_steps_dir(ledger.beads_dir, root_id, proto, lazy_count, actor, root.get("created_at") or now())
        else:
            ledger.bulk_create(step_records(root_id, proto, actor, now()), ephemeral=ephemeral, actor=actor)
        if work is not None and on is not None:     # (work is `on`'s record)
            ledger.update(on, actor=actor, description=set_fields(
                work.get("description", ""), attached_molecule=root_id,
                attached_formula=proto.formula.name, attached_at=now(),
            ))
    return root


def pour(ledger: Ledger, name_or_proto: str | Proto, on: str | None = None, vars: dict | None = None,
         search_path: list[Path] | FormulaLibrary | None = None, *, actor: str | None = None,
         force: bool = False, mol_type: str | None = None) -> str:
    """Pours a formula (or a cooked proto) as a persistent molecule; returns the root id.

    With `on`, the molecule is attached to that bead (`attached_molecule`/`attached_formula`).
    """
    proto = _proto(name_or_proto, _with_work_vars(ledger, on, vars), search_path)
    return _instantiate(ledger, proto, ephemeral=False, on=on, actor=actor, force=force, mol_type=mol_type)["id"]


def wisp(ledger: Ledger, name_or_proto: str | Proto, vars: dict | None = None,
         search_path: list[Path] | FormulaLibrary | None = None, *, on: str | None = None,
         actor: str | None = None, force: bool = False, mol_type: str | None = None,
         lazy: bool | None = None) -> str:
    """Instantiates a formula as a wisp (wisp store only, never `issues.jsonl`); returns the root id.

    `lazy`: keep only the root and make steps on demand (lazywisp.py); None = when the wisp has
    LAZY_MIN_STEPS steps or more."""
    proto = _proto(name_or_proto, _with_work_vars(ledger, on, vars), search_path)
    return _instantiate(ledger, proto, ephemeral=True, on=on, actor=actor, force=force, mol_type=mol_type,
                        lazy=lazy)["id"]


def pour_record(ledger: Ledger, name_or_proto: str | Proto, *, ephemeral: bool, on: str | None = None,
                vars: dict | None = None, search_path: list[Path] | FormulaLibrary | None = None,
                actor: str | None = None, force: bool = False, mol_type: str | None = None,
                lazy: bool | None = None) -> dict:
    """Like pour/wisp, but returns the root bead's record (what `--json` prints)."""
    proto = _proto(name_or_proto, _with_work_vars(ledger, on, vars), search_path)
    return _instantiate(ledger, proto, ephemeral=ephemeral, on=on, actor=actor, force=force, mol_type=mol_type,
                        lazy=lazy if ephemeral else False)


def molecule_root(ledger: Ledger, bead_id: str) -> dict:
    """The root record of the molecule `bead_id` is (or is a step of)."""
    rec = ledger.raw(bead_id)
    if rec.get("issue_type") == "molecule":
        return rec
    for dep in rec.get("dependencies") or ():
        if dep.get("type") == "parent-child":
            parent = ledger.raw_find(dep.get("depends_on_id"))
            if parent is not None and parent.get("issue_type") == "molecule":
                return parent
    attached = parse_fields(rec.get("description")).get("attached_molecule")
    if attached and ledger.raw_find(attached) is not None:
        return ledger.raw(attached)
    raise MoleculeError(f"{bead_id} is not a molecule, a step of one, or a bead with one attached")


def step_order(rec: dict) -> tuple:
    """Formula order: steps sort by their `source_location` (`steps[N]`), then by id."""
    loc = rec.get("source_location") or ""
    if loc.startswith("steps[") and loc.endswith("]") and loc[6:-1].isdigit():
        return (0, int(loc[6:-1]), rec["id"])
    return (1, 0, rec["id"])


def uses_wisps(root: dict) -> bool:
    """Whether a molecule's steps can be in the wisp store: a persistent molecule's never are,
    so reading it need not load `wisps.jsonl` (which may hold a million Hanoi steps)."""
    return bool(root.get("ephemeral")) or root.get("wisp") is True


def lazy_steps(ledger: Ledger, root: dict) -> WispSteps | None:
    """The WispSteps of a lazy wisp root (None for any other molecule)."""
    # deferred: lazy wisps only (bd and prime load no seeking engine)
    from gastown_tui.beads.wispsteps import is_lazy

    if not is_lazy(root) or not hasattr(ledger, "wisp_steps"):
        return None
    return ledger.wisp_steps(root["id"])


def _lazy_steps_of(ledger: Ledger, root: dict) -> WispSteps:
    """The WispSteps of a root the caller knows is a lazy wisp's."""
    steps = lazy_steps(ledger, root)
    if steps is None:
        raise MoleculeError(f"{root['id']} is not a wisp whose steps are made on demand")
    return steps


def iter_step_records(ledger: Ledger, root: dict, start: int = 0) -> Iterator[dict]:
    """A lazy wisp's step records from index `start`, stored versions winning."""
    steps = _lazy_steps_of(ledger, root)
    stored = ledger._wstore().records
    for rec in steps.records_from(start):
        yield stored.get(rec["id"], rec)


def step_records_of(ledger: Ledger, root_id: str, wisps: bool = True) -> list[dict]:
    """The stored records of a molecule's steps, in formula order (wisps=False: persistent only)."""
    if wisps:
        root = ledger.raw_find(root_id)
        if root is not None and lazy_steps(ledger, root) is not None:
            return list(iter_step_records(ledger, root))
    index = ledger.blocked_index(wisps=wisps)
    kids = [index.records[k] for k in index.children.get(root_id, ()) if k in index.records]
    kids.sort(key=step_order)
    return kids


def step_ids(ledger: Ledger, root_id: str, wisps: bool = True) -> list[str]:
    return [r["id"] for r in step_records_of(ledger, root_id, wisps)]


class LazyState:
    """Where a lazy wisp stands: steps done, the first open step, and the steps stored on their own."""

    def __init__(self, ledger: Ledger, root: dict):
        steps = _lazy_steps_of(ledger, root)
        self.steps = steps
        self.total = steps.count
        log = steps.log
        prefix = root["id"] + "."
        self.stored: dict[int, dict] = {}
        reopened, closed_extra = set(), set()
        for rid, rec in ledger._wstore().records.items():
            if rid.startswith(prefix):
                index = steps.index_of(rid)
                if index is None:
                    continue
                self.stored[index] = rec
                if rec.get("status") == "closed":
                    if not log.is_closed(index):
                        closed_extra.add(index)
                elif log.is_closed(index):
                    reopened.add(index)
        self.done = log.done + len(closed_extra) - len(reopened)
        i = log.first_open
        while i < self.total and (i in closed_extra or (log.is_closed(i) and i not in reopened)):
            i += 1
        self.first_open = min([i, *reopened]) if reopened else i
        self.in_progress = sorted(k for k, r in self.stored.items() if r.get("status") == "in_progress")

    def is_closed(self, index: int) -> bool:
        rec = self.stored.get(index)
        if rec is not None:
            return rec.get("status") == "closed"
        return self.steps.log.is_closed(index)


def _delete_all(ledger: Ledger, ids: list[str]) -> None:
    ledger.delete_many(ids)     # one pass, one write: linear even for a 65,535-step wisp


def _detach(ledger: Ledger, root: dict, replacement: str | None = None) -> None:
    on = parse_fields(root.get("description")).get("attached_to")
    if not on:
        return
    work = ledger.raw_find(on)
    if work is None or parse_fields(work.get("description")).get("attached_molecule") != root["id"]:
        return
    ledger.update(on, description=set_fields(work.get("description", ""), attached_molecule=replacement,
                                             attached_formula=None, attached_at=None))


def burn(ledger: Ledger, root_id: str) -> None:
    """Deletes a molecule or wisp and all its steps, leaving no trace in either store."""
    with ledger.transaction():
        root = molecule_root(ledger, root_id)
        _detach(ledger, root)
        if lazy_steps(ledger, root) is not None:     # only stored (changed) steps are beads of their own
            prefix = root["id"] + "."
            steps = [k for k in ledger._wstore().records if k.startswith(prefix)]
            _delete_all(ledger, steps + [root["id"]])    # deleting the root removes its steps' folder
            return
        index = ledger.blocked_index(wisps=uses_wisps(root))
        steps = [k for k in index.children.get(root["id"], ()) if k in index.records]   # any order will do
        _delete_all(ledger, steps + [root["id"]])


def squash(ledger: Ledger, root_id: str, summary: str | None = None, *, force: bool = False,
           actor: str | None = None) -> str:
    """Replaces a finished molecule or wisp by one closed, persistent digest bead; returns its id.

    Refuses while steps are open unless `force`. The digest lists every step and how it ended.
    """
    with ledger.transaction():
        root = molecule_root(ledger, root_id)
        if lazy_steps(ledger, root) is not None:
            return _squash_lazy(ledger, root, summary, force, actor)
        steps = step_records_of(ledger, root["id"], uses_wisps(root))
        open_steps = [s["id"] for s in steps if s.get("status") != "closed"]
        if open_steps and not force:
            shown = ", ".join(open_steps[:5]) + (f" and {len(open_steps) - 5} more" if len(open_steps) > 5 else "")
            raise MoleculeError(f"molecule {root['id']} has {len(open_steps)} open step(s): {shown}; "
                                "close them first or squash with --force")
        fields = parse_fields(root.get("description"))
        lines = [summary.strip(), ""] if summary else []
        lines.append(f"Digest of {'wisp' if root.get('ephemeral') else 'molecule'} {root['id']} "
                     f"({fields.get('formula') or root.get('source_formula') or '?'}): "
                     f"{len(steps) - len(open_steps)}/{len(steps)} steps closed.")
        lines.append("")
        digest = _write_digest(ledger, root, fields, lines + _step_lines(root, steps[:200], len(steps)), actor)
        _delete_all(ledger, [s["id"] for s in steps] + [root["id"]])
        return digest["id"]


def _step_lines(root: dict, steps: Iterable[dict], total: int) -> list[str]:
    """A digest's list of `steps` (the first 200 of `total`), each with how it ended."""
    lines = []
    for s in steps:
        mark = "x" if s.get("status") == "closed" else " "
        reason = f" ({s['close_reason']})" if s.get("close_reason") else ""
        lines.append(f"- [{mark}] {s['id'].removeprefix(root['id'] + '.')}: {s.get('title', '')}{reason}")
    if total > 200:
        lines.append(f"- ... and {total - 200} more steps")
    return lines


def _write_digest(ledger: Ledger, root: dict, fields: dict, lines: list[str], actor: str | None) -> dict:
    """Creates the closed digest bead of `root` (text `lines`) and detaches `root` from its hook."""
    digest_fields = {"squashed_from": root["id"]}
    if fields.get("formula"):
        digest_fields["formula"] = fields["formula"]
    if fields.get("attached_to"):
        digest_fields["attached_to"] = fields["attached_to"]
    description = set_fields("\n".join(lines), **digest_fields)
    digest = as_record(ledger.create(
        _title(f"Digest: {root.get('title', root['id'])}"), issue_type="task", description=description,
        labels=["digest"], status="closed", actor=actor, source_formula=root.get("source_formula"),
    ))
    _detach(ledger, root, replacement=None)
    return digest


def _squash_lazy(ledger: Ledger, root: dict, summary: str | None, force: bool, actor: str | None) -> str:
    """squash() of a lazy wisp: counts from its close log, the first 200 steps listed."""
    state = LazyState(ledger, root)
    open_count = state.total - state.done
    if open_count and not force:
        first = [r["id"] for r, _ in zip(
            (r for r in iter_step_records(ledger, root, state.first_open) if r.get("status") != "closed"),
            range(5))]
        shown = ", ".join(first) + (f" and {open_count - len(first)} more" if open_count > len(first) else "")
        raise MoleculeError(f"molecule {root['id']} has {open_count} open step(s): {shown}; "
                            "close them first or squash with --force")
    fields = parse_fields(root.get("description"))
    lines = [summary.strip(), ""] if summary else []
    lines.append(f"Digest of wisp {root['id']} ({fields.get('formula') or root.get('source_formula') or '?'}): "
                 f"{state.done}/{state.total} steps closed.")
    lines.append("")
    first = [s for s, _ in zip(iter_step_records(ledger, root), range(200))]
    digest = _write_digest(ledger, root, fields, lines + _step_lines(root, first, state.total), actor)
    prefix = root["id"] + "."
    _delete_all(ledger, [k for k in ledger._wstore().records if k.startswith(prefix)] + [root["id"]])
    return digest["id"]
