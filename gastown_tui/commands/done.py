"""`gastown done`: submit this polecat's branch to the merge queue."""
from __future__ import annotations

import argparse
from pathlib import Path
from gastown_tui.town.cli_support import print_json, town_here
from gastown_tui.town.done import submit_done


def main(argv: list[str], prog: str) -> int:
    import os


    p = argparse.ArgumentParser(prog=prog, description="Push this polecat's branch and queue a merge request.")
    p.add_argument("--auto-commit", action="store_true", help="commit uncommitted changes first")
    p.add_argument("--target", help="branch to merge into (default: the rig's target)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    mr = submit_done(town_here(), Path.cwd(), address=os.environ.get("GT_AGENT"), auto_commit=args.auto_commit,
                     target=args.target)
    if args.json:
        print_json(mr)
    else:
        print(f"Submitted {mr.branch} -> {mr.target}: merge request {mr.id} (queued)")
    return 0
