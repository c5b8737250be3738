"""Formulas -> protos -> molecules and wisps (Gas Town's MEOW stack).

    formula (TOML) --cook--> proto --pour--> molecule (ledger)
                                   --wisp--> wisp (wisp store, never issues.jsonl)

Modules: parse (TOML -> Formula), search (search path, library), resolve
(extends, compose), validate, substitute ({{var}}, {target}), expand (the lazy
cooking engine), cook (Proto), molecule (pour/wisp/squash/burn), progress
(progress/next/close/checklist), hanoi (the replay checker).
"""
from gastown_tui.meow.cook import Proto, cook, load_formula
from gastown_tui.meow.errors import FormulaError, MoleculeError
from gastown_tui.meow.model import Formula, Step, Var
from gastown_tui.meow.molecule import burn, molecule_root, pour, squash, wisp
from gastown_tui.meow.progress import Progress, StepState, checklist, close_step, next_step, progress
from gastown_tui.meow.search import FormulaLibrary, formula_search_path

__all__ = [
    "Formula", "Step", "Var", "Proto", "FormulaError", "MoleculeError", "FormulaLibrary",
    "formula_search_path", "load_formula", "cook", "pour", "wisp", "squash", "burn", "molecule_root",
    "progress", "next_step", "close_step", "checklist", "Progress", "StepState",
]
