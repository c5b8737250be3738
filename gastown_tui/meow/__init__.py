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


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
