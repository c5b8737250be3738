"""`gastown run --headless`: the town's sessions and patrols with no UI.

Logs every patrol decision (and chaos strikes) to stdout; everything is also in
the town's `.events.jsonl`. Ctrl-C (or SIGTERM) stops the patrols, then every
agent (polite, then SIGTERM, then SIGKILL), leaving no child process.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from gastown_tui.errors import UserError


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Run the town's sessions and patrols.")
    p.add_argument("--headless", action="store_true", help="no UI: log to stdout and the event log")
    p.add_argument("--town", type=Path, help="the town (default: GT_TOWN, or the town around the current folder)")
    p.add_argument("--until-convoy", metavar="ID", help="stop when this convoy has landed")
    p.add_argument("--timeout", type=float, default=None, help="stop after this many seconds")
    args = p.parse_args(argv)
    from gastown_tui.town.layout import find_town

    town = find_town(args.town) if args.town else find_town()
    if args.town and town.root != args.town.resolve():
        raise UserError(f"--town {args.town}: not a town (no mayor/town.json there)")
    if not args.headless:
        try:
            from gastown_tui.app import run_app
        except ImportError:
            print(f"{prog}: the app is not built yet; use --headless", file=sys.stderr)
            return 1
        return int(run_app(town.root) or 0)
    if args.until_convoy:
        from gastown_tui.town.convoys import get_convoy

        get_convoy(town, args.until_convoy)  # NotFound names the nearest convoys
    from gastown_tui.demo.run import run_factory

    outcome = asyncio.run(run_factory(town.root, convoy=args.until_convoy, timeout=args.timeout,
                                      log=lambda line: print(line, flush=True)))
    print(f"stopped ({outcome.stopped_by}) after {outcome.seconds:.1f}s", flush=True)
    return 0 if (outcome.landed or not args.until_convoy) else 1
