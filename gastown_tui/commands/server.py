"""`gastown server`: serve the town in the foreground (its sessions, patrols and the client socket).

`gastown up` runs this in the background; `gastown run --headless` is the same thing.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from gastown_tui.commands.town_option import town_of
from gastown_tui.server.main import serve_town
from gastown_tui.town.convoys import get_convoy


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Serve the town in the foreground: run its agents and "
                                "patrols and answer its clients (the app, gt, bd) on the town's socket.")
    p.add_argument("--town", type=Path, help="the town (default: GT_TOWN, or the town around the current folder)")
    p.add_argument("--until-convoy", metavar="ID", help="stop when this convoy has landed")
    p.add_argument("--timeout", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--no-patrols", action="store_true", help="serve without patrols (tests, debugging)")
    args = p.parse_args(argv)
    town = town_of(args.town)
    if args.until_convoy:
        get_convoy(town, args.until_convoy)  # NotFound names the nearest convoys
    return serve_town(town.root, convoy=args.until_convoy, timeout=args.timeout, patrols=not args.no_patrols)
