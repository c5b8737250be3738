"""`gastown mq list|show`: the merge queue."""
from __future__ import annotations

import argparse
from gastown_tui.town.cli_support import print_json, print_rows, town_here
from gastown_tui.town.mq import get_mr, list_mrs, mr_diff


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="The merge queue.")
    sub = p.add_subparsers(dest="cmd")
    ls = sub.add_parser("list", help="list merge requests (open ones, queue order)")
    ls.add_argument("rig", nargs="?")
    ls.add_argument("--all", action="store_true", help="include merged and superseded")
    ls.add_argument("--json", action="store_true")
    sh = sub.add_parser("show", help="one merge request")
    sh.add_argument("id")
    sh.add_argument("--json", action="store_true")
    sh.add_argument("--diff", action="store_true", help="print the diff too")
    args = p.parse_args(argv or ["list"])
    town = town_here()
    if args.cmd in (None, "list"):
        print_rows(list_mrs(town, getattr(args, "rig", None), include_closed=getattr(args, "all", False)),
                   as_json=getattr(args, "json", False), empty="Merge queue is empty.",
                   row=lambda m: f"{m.id:<14} P{m.priority} {m.state:<10} {m.rig:<12} {m.source_bead or '-':<14} "
                                 f"{m.branch}")
        return 0
    mr = get_mr(town, args.id)
    if args.json:
        print_json(mr)
    else:
        for k, v in mr.to_dict().items():
            print(f"{k:<12} {v}")
    if args.diff:
        files, diff = mr_diff(town, args.id)
        print()
        for path, status in files:
            print(f"{status} {path}")
        print(diff)
    return 0
