"""`gastown agents [--json]`: every agent preset — found or not, path, version, verified range, roles."""
from __future__ import annotations

import argparse
import os

from gastown_tui.errors import UserError
from gastown_tui.sessions.agent_detect import detect
from gastown_tui.sessions.presets import load_presets
from gastown_tui.town.cli_support import print_json
from gastown_tui.town.layout import find_town
from gastown_tui.town.rigs import list_rigs
from gastown_tui.town.settings import ROLES, TownSettings


def roles_by_preset(town) -> tuple[dict[str, list[str]], list[str]]:
    """(preset name -> the roles, crew and rig overrides that use it in TOWN; problems met on the way)."""
    settings = TownSettings.load(town.settings_path)
    out: dict[str, list[str]] = {}
    for role in ROLES:
        out.setdefault(settings.agent_for(role), []).append(role)
    for name, preset in settings.data.get("crew_agents", {}).items():
        out.setdefault(preset, []).append(f"crew/{name}")
    problems = []
    for rig in list_rigs(town):
        try:
            rig_roles = rig.settings.data.get("role_agents", {})
        except UserError as exc:  # a broken rig file must not hide the agents list: said below it
            problems.append(str(exc))
            continue
        for role, preset in rig_roles.items():
            out.setdefault(preset, []).append(f"{rig.name}/{role}")
    return out, problems


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="List the agent presets: whether each CLI is installed "
                                "(on PATH, or at its configured path), its version, the versions its screen "
                                "rules were verified with, and which roles use it.")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    try:
        town = find_town()
    except UserError:
        town = None  # outside a town: the built-in presets, no roles
    presets = load_presets(town.root if town else None)
    found = detect(presets, os.environ.get("PATH"))
    roles, problems = roles_by_preset(town) if town else ({}, [])
    for item in found:
        item.roles = roles.get(item.name, [])
    if args.json:
        print_json([i.to_dict() for i in found])
        return 0
    rows = [("AGENT", "FOUND", "VERSION", "VERIFIED", "ROLES", "PATH")]
    for i in found:
        ok = {True: "yes", False: "NO", None: "-"}[i.verified_ok]
        verified = f"{i.verified} ({ok})" if i.verified else "-"
        rows.append((i.name, "yes" if i.found else "no", i.version or "-", verified,
                     ",".join(i.roles) or "-", i.path or f"({i.program} not on PATH)"))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(f"{v:<{w}}" for v, w in zip(r, widths)) + "  " + r[-1])
    if town is None:
        print("(not in a town: no roles shown)")
    for problem in problems:
        print(f"warning: {problem}")
    missing = [i.name for i in found if not i.found and i.name not in ("sim", "shell")]
    if missing:
        print(f"Not found: {', '.join(missing)}. Installed elsewhere? "
              "gastown config set agents.NAME.path /full/path/to/program")
    return 0
