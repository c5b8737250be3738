"""`gastown formula list|show NAME|validate FILE`: the formulas on the search path.

The search path is the rig's `.beads/formulas/` (the nearest `.beads` above
here, or `--rig DIR`), the town's `formulas/` ($GT_TOWN or `--town DIR`), then
the built-in formulas. A nearer file overrides a farther one of the same name.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from gastown_tui.errors import UserError
from gastown_tui.beads import find_beads_dir
from gastown_tui.meow.errors import FormulaError
from gastown_tui.meow.proto import library_for, load_formula
from gastown_tui.meow.search import formula_search_path, FormulaLibrary
from gastown_tui.meow.validate import validate
from gastown_tui.resources import formulas_dir


def build_parser(prog: str) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--rig", type=Path, default=None, help="rig folder (default: nearest .beads above here)")
    common.add_argument("--town", type=Path, default=None, help="town folder (default: $GT_TOWN)")
    common.add_argument("--json", action="store_true", help="print JSON")
    parser = argparse.ArgumentParser(prog=prog, description="List, show and validate formulas.", parents=[common])
    sub = parser.add_subparsers(dest="cmd", metavar="COMMAND", required=True)
    sub.add_parser("list", help="the formulas on the search path", parents=[common])
    p = sub.add_parser("show", help="a formula's vars and steps (extends and compose applied)", parents=[common])
    p.add_argument("name")
    p = sub.add_parser("validate", help="check a formula file; errors name the file and the step", parents=[common])
    p.add_argument("file", type=Path)
    return parser


def search_path(rig: Path | None, town: Path | None) -> list[Path]:
    if rig is None and os.environ.get("BEADS_DIR"):
        rig = Path(os.environ["BEADS_DIR"])
    if rig is None:
        try:
            rig = find_beads_dir(Path.cwd())
        except UserError:
            rig = None
    return formula_search_path(rig, town)


def _source(path: Path, folders: list[Path]) -> str:
    if path.parent == formulas_dir():
        return "built-in"
    if path.parent.parent.name == ".beads":
        return "rig" if folders and path.parent == folders[0] else "town"
    return "town"


def main(argv: list[str], prog: str) -> int:
    args = build_parser(prog).parse_args(argv)

    folders = search_path(args.rig, args.town)
    library = FormulaLibrary(folders)
    if args.cmd == "list":
        rows = []
        for name, entry in sorted(library.index().items()):
            try:
                summary = library.get(name).summary()
            except UserError as exc:
                summary = {"name": name, "type": None, "version": None, "description": "",
                           "path": str(entry.path), "error": str(exc)}
            summary["source"] = _source(entry.path, folders)
            summary["overrides"] = [str(p) for p in entry.shadows]
            rows.append(summary)
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        if not rows:
            print("no formulas found in: " + ", ".join(str(p) for p in folders))
            return 0
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            kind = r["type"] or "invalid"
            note = f"  (overrides {len(r['overrides'])})" if r["overrides"] else ""
            text = r.get("error", r["description"]).splitlines()[0] if (r.get("error") or r["description"]) else ""
            print(f"{r['name']:<{width}}  {kind:<9}  {r['source']:<8}  {text[:80]}{note}")
        return 0

    if args.cmd == "show":
        formula = load_formula(args.name, library)
        resolved = validate(formula, library_for(library, formula))
        data = formula.to_json()
        data["resolved_steps"] = [_step_json(s) for s in resolved.steps]
        data["vars"] = {n: _var_json(v) for n, v in resolved.vars.items()}
        if args.json:
            print(json.dumps(data, indent=2, default=str))
            return 0
        print(f"{formula.name}  ({formula.type}, version {formula.version}, {formula.path})")
        if resolved.description.strip():
            print()
            print(resolved.description.strip())
        if resolved.vars:
            print("\nvars:")
            for name, var in resolved.vars.items():
                bits = ["required"] if var.required else []
                if var.default is not None:
                    bits.append(f"default {var.default!r}")
                if var.pattern:
                    bits.append(f"pattern {var.pattern}")
                desc = f" - {var.description}" if var.description else ""
                print(f"  {name}{' (' + ', '.join(bits) + ')' if bits else ''}{desc}")
        steps = resolved.steps or formula.template
        if steps:
            print("\nsteps:" if resolved.steps else "\ntemplate:")
            for s in steps:
                needs = f"  (needs {', '.join(s.needs)})" if s.needs else ""
                exp = f"  [expands with {s.expand}]" if s.expand else ""
                print(f"  {s.id}: {s.title}{needs}{exp}")
        return 0

    if args.cmd == "validate":
        path = args.file
        if not path.exists():
            raise UserError(f"{path}: no such file")

        try:
            formula = load_formula(path, library)
            resolved = validate(formula, library_for(library, formula))
        except FormulaError as exc:
            if not args.json:
                raise
            print(json.dumps({"ok": False, "path": str(path), "errors": exc.problems}))
            return 1
        result = {"ok": True, "formula": formula.name, "type": formula.type, "path": str(path),
                  "steps": len(resolved.steps), "template": len(formula.template)}
        if args.json:
            print(json.dumps(result))
        else:
            count = f"{len(resolved.steps)} steps" if resolved.steps or not formula.template \
                else f"{len(formula.template)} template steps"
            print(f"ok: {formula.name} ({formula.type}, {count})")
        return 0
    return 2


def _step_json(step) -> dict:
    data = {"id": step.id, "title": step.title, "needs": list(step.needs)}
    for key in ("description", "acceptance", "type", "condition", "expand"):
        value = getattr(step, key)
        if value:
            data[key] = value
    if step.expand_vars:
        data["expand_vars"] = dict(step.expand_vars)
    if step.priority is not None:
        data["priority"] = step.priority
    data.update(step.extra)
    return data


def _var_json(var) -> dict:
    data = {"description": var.description, "required": var.required}
    for key in ("default", "pattern", "enum"):
        value = getattr(var, key)
        if value is not None:
            data[key] = value
    return data
