"""`gastown budget`: spending budgets and the breaker (town/budget.py).

    show [--json]                         every budget: spent, limit, percent, ok / warned / tripped
    raise SCOPE (--to N | --by N)         a higher limit (written to settings/config.json); clears a trip
    reset SCOPE                           count SCOPE's spend from now on; clears a trip
SCOPE: town, rig:NAME, convoy:ID (or a budget id from `show`).
"""
from __future__ import annotations

import argparse

from gastown_tui.town.budget import evaluate, raise_budget, reset_budget
from gastown_tui.town.cli_support import actor, print_json, town_here


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Spending budgets and the breaker.")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    s = sub.add_parser("show", help="every budget and its spend")
    s.add_argument("--json", action="store_true")
    r = sub.add_parser("raise", help="raise a budget's limit (resumes a tripped one)")
    r.add_argument("scope")
    how = r.add_mutually_exclusive_group(required=True)
    how.add_argument("--to", type=float, metavar="N", help="the new limit (tokens or dollars)")
    how.add_argument("--by", type=float, metavar="N", help="add N to the limit")
    r.add_argument("--json", action="store_true")
    z = sub.add_parser("reset", help="count a budget from now on (resumes a tripped one)")
    z.add_argument("scope")
    z.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    town = town_here()
    if args.cmd == "show":
        statuses = evaluate(town)
        if args.json:
            print_json([st.to_json() for st in statuses])
        elif not statuses:
            print("no budgets (add them to settings/config.json under \"budgets\")")
        else:
            for st in statuses:
                print(st.line())
        return 0
    if args.cmd == "raise":
        if (args.to is not None and args.to <= 0) or (args.by is not None and args.by <= 0):
            p.error("the limit must be positive")
        done = raise_budget(town, args.scope, to=args.to, by=args.by, actor=actor())
        if args.json:
            print_json(done)
        else:
            for c in done:
                print(f"{c['budget']}: {c['old']:g} -> {c['new']:g} (resumed)")
        return 0
    ids = reset_budget(town, args.scope, actor=actor())
    if args.json:
        print_json(ids)
    else:
        print("reset (counting from now, resumed): " + ", ".join(ids))
    return 0
