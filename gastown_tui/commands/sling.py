"""`gastown sling BEAD TARGET`: put work on a hook (TARGET: a rig, or an agent address)."""
from __future__ import annotations

import argparse

from gastown_tui.nodes.placement import sling_placed
from gastown_tui.town.cli_support import actor, parse_vars, print_json, town_here


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Put a bead on a hook; a rig target spawns a polecat.")
    p.add_argument("bead")
    p.add_argument("target", help="a rig (spawns a polecat) or an address (mayor/, RIG/crew/NAME, ...)")
    p.add_argument("--formula", help="formula to pour as the hook's molecule (polecats: polecat-work)")
    p.add_argument("--var", action="append", metavar="K=V", help="formula variable (repeatable)")
    p.add_argument("--no-convoy", action="store_true", help="do not wrap the work in a convoy")
    p.add_argument("--force", action="store_true", help="take a closed or already-hooked bead anyway")
    p.add_argument("--ralph", action="store_true",
                   help="Ralph loop on every step: a fresh session per attempt until the check passes")
    p.add_argument("--check", metavar="CMD", help="with --ralph: the acceptance check (default: the rig's gate)")
    p.add_argument("--max-attempts", type=int, metavar="N", help="with --ralph: attempts per step (default 3)")
    p.add_argument("--node", metavar="NAME", help="run the new polecat on this node (gastown node list)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if (args.check or args.max_attempts is not None) and not args.ralph:
        p.error("--check and --max-attempts go with --ralph")
    if args.max_attempts is not None and args.max_attempts < 1:
        p.error("--max-attempts must be at least 1")
    ralph = {"check": args.check, "max_attempts": args.max_attempts} if args.ralph else None
    town = town_here()
    # where the new polecat runs is decided before anything is slung: --node forces a node, else the
    # rig's allowed places with room (nodes/placement.py); a node that is not ready gets nothing
    res, placed = sling_placed(town, args.bead, args.target, node=args.node, formula=args.formula,
                               vars=parse_vars(args.var), no_convoy=args.no_convoy, force=args.force,
                               actor=actor(), ralph=ralph)
    if args.json:
        print_json({**res.to_dict(), "node": placed.node if placed else None,
                    "node_worktree": placed.path if placed else None})
        return 0
    print(f"Slung {res.bead} to {res.agent}")
    if res.spawned:
        print(f"  polecat worktree: {res.worktree} (branch {res.branch})")
    if placed is not None:
        print(f"  runs on node {placed.node}: {placed.path}")
    if res.molecule:
        print(f"  molecule: {res.molecule} ({res.formula})")
    if res.convoy:
        print(f"  convoy: {res.convoy}")
    return 0
