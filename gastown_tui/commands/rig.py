"""`gastown rig add|list|show|remove`."""
from __future__ import annotations

import argparse
from gastown_tui.town.cli_support import actor, print_json, print_rows, town_here
from gastown_tui.town.rigs import add_rig, get_rig, list_rigs, remove_rig


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Rigs: the git projects in this town.")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("add", help="clone SOURCE (path or URL) into a new rig")
    a.add_argument("name")
    a.add_argument("source")
    a.add_argument("--prefix", help="the rig ledger's bead prefix (default: from the name)")
    a.add_argument("--gate", help="command the Refinery runs before merging, e.g. 'python -m pytest -q'")
    ls = sub.add_parser("list", help="list rigs")
    ls.add_argument("--json", action="store_true")
    sh = sub.add_parser("show", help="show one rig")
    sh.add_argument("name")
    sh.add_argument("--json", action="store_true")
    rm = sub.add_parser("remove", help="remove a rig")
    rm.add_argument("name")
    rm.add_argument("--force", action="store_true", help="even with polecats or crew in it")
    args = p.parse_args(argv)
    town = town_here()
    if args.cmd == "add":
        rig = add_rig(town, args.name, args.source, prefix=args.prefix, gate=args.gate, actor=actor())
        print(f"Added rig {rig.name} (prefix {rig.prefix}-, target {rig.target}) at {rig.path}")
    elif args.cmd == "list":
        print_rows([r.to_dict() for r in list_rigs(town)], as_json=args.json,
                   empty="No rigs yet (gastown rig add NAME SOURCE).",
                   row=lambda r: f"{r['name']:<20} {r['prefix'] + '-':<8} {r['target']:<10} {r['git_url']}")
    elif args.cmd == "show":
        rig = get_rig(town, args.name)
        if args.json:
            print_json(rig.to_dict())
        else:
            for k, v in rig.to_dict().items():
                print(f"{k:<18} {v}")
    elif args.cmd == "remove":
        remove_rig(town, args.name, force=args.force, actor=actor())
        print(f"Removed rig {args.name}")
    return 0
