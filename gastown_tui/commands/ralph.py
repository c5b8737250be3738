"""`gastown ralph`: the Ralph loops of molecule steps.

    show ID                                 each Ralph step of ID (a step, or the bead worked on): attempt k of N,
                                            every attempt's check result
    raise ID [--max-attempts N | --by N]    let a step that used up its attempts go on (default: one more)
"""
from __future__ import annotations

import argparse

from gastown_tui.town.cli_support import actor, print_json, town_here
from gastown_tui.town.ralph import raise_attempts, show


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Ralph loops on molecule steps.")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    s = sub.add_parser("show", help="attempts of the Ralph steps of a step or bead")
    s.add_argument("id", metavar="ID")
    s.add_argument("--json", action="store_true")
    r = sub.add_parser("raise", help="raise max_attempts of an exhausted Ralph step")
    r.add_argument("id", metavar="ID", help="the step, or the bead worked on (its exhausted Ralph steps)")
    how = r.add_mutually_exclusive_group()
    how.add_argument("--max-attempts", type=int, metavar="N", help="the new limit")
    how.add_argument("--by", type=int, default=1, metavar="N", help="add N attempts (default 1)")
    r.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    town = town_here()
    if args.cmd == "raise":
        if args.by < 1 or (args.max_attempts is not None and args.max_attempts < 1):
            p.error("attempts must be at least 1")
        changed = raise_attempts(town, args.id, max_attempts=args.max_attempts, by=args.by, actor=actor())
        if args.json:
            print_json(changed)
        else:
            for c in changed:
                print(f"{c['step']}: max_attempts {c['old']} -> {c['new']}")
        return 0
    steps = show(town, args.id)
    if args.json:
        print_json(steps)
        return 0
    for st in steps:
        print(st["text"].splitlines()[0] + f"  [{st['step']}]")
        for a in st["attempts"]:
            result = "passed" if a.get("passed") else ("timed out" if a.get("timed_out") else f"exit {a.get('exit')}")
            print(f"  attempt {a.get('n')} at {a.get('at')}: {result} (session {a.get('session') or '-'})")
    return 0
