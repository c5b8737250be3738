"""Loading a formula by name or file, and cooking it (with vars) into a proto.

A proto is the formula's frozen shape: a root template bead (id = formula
name, `is_template`, label `template`) with one child `<proto>.<step>` per
step, `parent-child` edges to the root and `blocks` edges from `needs`.
Its steps are produced lazily (`iter_steps`), so a huge proto is never held
in memory unless `steps` is asked for.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterator

from gastown_tui.meow.expand import CookedStep, Expander
from gastown_tui.meow.model import Formula
from gastown_tui.meow.search import FormulaLibrary, formula_search_path
from gastown_tui.meow.substitute import SubstitutionError, render
from gastown_tui.meow.errors import FormulaError
from gastown_tui.meow.validate import bind_vars, validate


def library_for(search_path: list[Path] | FormulaLibrary | None, formula: Formula | None = None) -> FormulaLibrary:
    """A library over `search_path`; a formula loaded from a file also sees its own folder first."""
    if isinstance(search_path, FormulaLibrary):
        library = search_path
    else:
        library = FormulaLibrary(search_path if search_path is not None else formula_search_path())
    if formula is not None and formula.path is not None:
        folder = formula.path.parent
        if folder not in library.search_path:
            library = FormulaLibrary([folder] + library.search_path)
    return library


def load_formula(name: str | Path, search_path: list[Path] | FormulaLibrary | None = None) -> Formula:
    """The formula called `name` (or in file `name`), validated. FormulaError names file and step."""
    library = library_for(search_path)
    path = Path(name) if isinstance(name, Path) or str(name).endswith((".toml", ".json")) else None
    if path is not None:
        formula = library.load_path(path)
        library = library_for(library, formula)
    else:
        formula = library.get(str(name))
    validate(formula, library)
    return formula


@dataclass
class Proto:
    name: str
    formula: Formula            # resolved: extends and compose applied
    vars: dict[str, str]
    library: FormulaLibrary
    title: str = ""
    description: str = ""

    def iter_steps(self) -> Iterator[CookedStep]:
        """The proto's steps, produced one at a time, each after the steps it needs."""
        return Expander(self.library).steps(self.formula, self.vars)

    @cached_property
    def steps(self) -> list[CookedStep]:
        return list(self.iter_steps())

    def to_json(self, with_steps: bool = True) -> dict:
        data: dict[str, object] = {
            "id": self.name,
            "formula": self.formula.name,
            "type": self.formula.type,
            "title": self.title,
            "description": self.description,
            "vars": dict(self.vars),
        }
        if with_steps:
            data["steps"] = [s.to_json() for s in self.steps]
        return data

    def template_beads(self, proto_id: str | None = None, created_at: str | None = None) -> Iterator[dict]:
        """The proto as template bead records (id `proto_id`, default the formula name): the root,
        then one child `<proto>.<step>` per step with `parent-child` and `blocks` edges."""
        pid = proto_id or self.name
        yield {
            "id": pid, "title": self.title, "description": self.description,
            "issue_type": "epic", "is_template": True, "labels": ["template"],
            "source_formula": self.formula.name,
        }
        for index, step in enumerate(self.iter_steps()):
            sid = f"{pid}.{step.id}"
            deps = [{"issue_id": sid, "depends_on_id": pid, "type": "parent-child"}]
            deps += [{"issue_id": sid, "depends_on_id": f"{pid}.{n}", "type": "blocks"} for n in step.needs]
            if created_at:
                for dep in deps:
                    dep["created_at"] = created_at
            record = {
                "id": sid, "title": step.title, "description": step.description,
                "issue_type": step.type or "task", "is_template": True, "labels": ["template"],
                "source_formula": step.formula, "source_location": f"steps[{index}]",
                "dependencies": deps,
            }
            if step.acceptance:
                record["acceptance_criteria"] = step.acceptance
            yield record


def cook(formula: Formula | str, vars: dict[str, str] | None = None,
         search_path: list[Path] | FormulaLibrary | None = None) -> Proto:
    """Validates `formula`, binds `vars` (defaults, required, patterns) and returns its proto."""
    library = library_for(search_path)
    if isinstance(formula, str):
        formula = load_formula(formula, library)
    library = library_for(library, formula)
    resolved = validate(formula, library)
    if resolved.type == "expansion":
        raise FormulaError(
            f"{formula.where}: {formula.name!r} is an expansion formula; it is used by"
            " `extends`/`[[compose.expand]]`/`expand` in a workflow, not cooked on its own"
        )
    if resolved.type == "aspect":
        raise FormulaError(f"{formula.where}: {formula.name!r} is an aspect formula; aspects cannot be cooked yet")
    values = bind_vars(resolved, dict(vars or {}))
    try:
        description = render(resolved.description, values)
    except SubstitutionError as exc:
        raise FormulaError(f"{formula.where}: description: {exc}") from None
    return Proto(
        name=resolved.name, formula=resolved, vars=values, library=library,
        title=resolved.name, description=description,
    )
