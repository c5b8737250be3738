"""`gastown polecat spawn|list|remove|reap`."""
from __future__ import annotations

import argparse
from gastown_tui.errors import UserError
from gastown_tui.patrols.reaping import reap_rig
from gastown_tui.town.cli_support import actor, print_rows, town_here, print_json
from gastown_tui.town.polecats import list_polecats, remove_polecat, spawn_polecat


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Polecats: workers in their own git worktrees.")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("spawn", help="make a polecat (worktree + branch + agent bead) in RIG")
    s.add_argument("rig")
    s.add_argument("--name", help="pick the name (default: next free name from the pool)")
    s.add_argument("--bead", help="the bead the branch is for")
    ls = sub.add_parser("list", help="list polecats")
    ls.add_argument("rig", nargs="?")
    ls.add_argument("--json", action="store_true")
    rm = sub.add_parser("remove", help="remove a polecat (refuses while its work is unmerged)")
    rm.add_argument("address", help="RIG/NAME or RIG/polecats/NAME")
    rm.add_argument("--force", action="store_true", help="remove even if unmerged work would be lost")
    rp = sub.add_parser("reap", help="reap finished polecats whose work has landed, as the Witness does")
    rp.add_argument("rig", nargs="?", help="only this rig (default: every rig)")
    rp.add_argument("--dry-run", action="store_true", help="say what would be reaped or refused; change nothing")
    rp.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    town = town_here()
    if args.cmd == "spawn":
        cat = spawn_polecat(town, args.rig, bead_id=args.bead, name=args.name, actor=actor())
        print(f"Spawned {cat.address} on {cat.branch}\n  worktree: {cat.worktree}")
    elif args.cmd == "list":
        print_rows(list_polecats(town, args.rig), as_json=args.json, empty="No polecats.",
                   row=lambda c: f"{c.address:<32} {c.agent_state or '-':<9} {c.hook_bead or '-':<14} {c.branch or '-'}")
    elif args.cmd == "remove":
        parts = args.address.strip("/").split("/")
        if len(parts) == 3 and parts[1] == "polecats":
            rig, name = parts[0], parts[2]
        elif len(parts) == 2:
            rig, name = parts
        else:
            raise UserError(f"not a polecat address: {args.address!r} (use RIG/NAME or RIG/polecats/NAME)")
        cat = remove_polecat(town, rig, name, force=args.force, actor=actor())
        print(f"Removed {cat.address}")
    elif args.cmd == "reap":
        return _reap(town, args, actor())
    return 0


def _reap(town, args, who: str) -> int:
    outcomes = reap_rig(town, args.rig, dry_run=args.dry_run, actor=who)
    if args.json:
        print_json([o.to_dict() for o in outcomes])
        return 0
    if not outcomes:
        print("No polecats.")
    for o in outcomes:
        if o.reaped:
            print(f"Reaped {o.address}: worktree and branch removed, name free")
        elif o.would_reap:
            print(f"Would reap {o.address}")
        else:
            print(f"Not reaping {o.address}: {'; '.join(o.refused)}")
    return 0
