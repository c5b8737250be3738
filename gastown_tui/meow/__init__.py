"""Formulas -> protos -> molecules and wisps (Gas Town's MEOW stack).

    formula (TOML) --cook--> proto --pour--> molecule (ledger)
                                   --wisp--> wisp (wisp store, never issues.jsonl)

Modules: parse (TOML -> Formula), search (search path, library), resolve
(extends, compose), validate, substitute ({{var}}, {target}), expand (the lazy
cooking engine), proto (cook, Proto), molecule (pour/wisp/squash/burn), tracking
(progress/next/close/checklist), hanoi (the replay checker).

Names are imported on first use, so `gt mol next` does not pay for the cooking engine.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # what __getattr__ below loads on first use
    from gastown_tui.meow.errors import (  # noqa: F401
        FormulaError as FormulaError, MoleculeError as MoleculeError,
    )
    from gastown_tui.meow.model import (  # noqa: F401
        Formula as Formula, Step as Step, Var as Var,
    )
    from gastown_tui.meow.molecule import (  # noqa: F401
        burn as burn, molecule_root as molecule_root, pour as pour, squash as squash, wisp as wisp,
    )
    from gastown_tui.meow.proto import (  # noqa: F401
        Proto as Proto, cook as cook, load_formula as load_formula,
    )
    from gastown_tui.meow.search import (  # noqa: F401
        FormulaLibrary as FormulaLibrary, formula_search_path as formula_search_path,
    )
    from gastown_tui.meow.tracking import (  # noqa: F401
        Progress as Progress, StepState as StepState, checklist as checklist, close_step as close_step,
        next_step as next_step, progress as progress,
    )

_WHERE = {
    "Formula": "model", "Step": "model", "Var": "model",
    "Proto": "proto", "cook": "proto", "load_formula": "proto",
    "FormulaError": "errors", "MoleculeError": "errors",
    "FormulaLibrary": "search", "formula_search_path": "search",
    "pour": "molecule", "wisp": "molecule", "squash": "molecule", "burn": "molecule",
    "molecule_root": "molecule",
    "progress": "tracking", "next_step": "tracking", "close_step": "tracking", "checklist": "tracking",
    "Progress": "tracking", "StepState": "tracking",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
