"""`gastown crew add|list|remove`."""
from __future__ import annotations

import argparse
from gastown_tui.town.cli_support import actor, print_rows, town_here
from gastown_tui.town.crew import add_crew, list_crew, remove_crew


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Crew: long-lived named workspaces (full clones).")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("add", help="make a crew workspace")
    a.add_argument("rig")
    a.add_argument("name")
    ls = sub.add_parser("list", help="list crew")
    ls.add_argument("rig", nargs="?")
    ls.add_argument("--json", action="store_true")
    rm = sub.add_parser("remove", help="remove a crew workspace")
    rm.add_argument("rig")
    rm.add_argument("name")
    rm.add_argument("--force", action="store_true")
    args = p.parse_args(argv)
    town = town_here()
    if args.cmd == "add":
        m = add_crew(town, args.rig, args.name, actor=actor())
        print(f"Added {m.address} at {m.path}")
    elif args.cmd == "list":
        print_rows(list_crew(town, args.rig), as_json=args.json, empty="No crew.",
                   row=lambda m: f"{m.address:<32} {m.agent_state or '-':<9} {m.branch or '-':<12} {m.path}")
    elif args.cmd == "remove":
        remove_crew(town, args.rig, args.name, force=args.force, actor=actor())
        print(f"Removed {args.rig}/crew/{args.name}")
    return 0
