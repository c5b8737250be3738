"""`gastown run --headless`: the town's sessions and patrols with no UI — the town server (`gastown server`).

Logs every patrol decision (and chaos strikes) to stdout; everything is also in
the town's `.events.jsonl`. Ctrl-C (or SIGTERM) stops the patrols, then every
agent (polite, then SIGTERM, then SIGKILL), leaving no child process. While it
runs, the town's socket serves the app, `gt` and `bd` (docs/protocol.md).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from gastown_tui.commands.town_option import town_of
from gastown_tui.server.main import serve_town
from gastown_tui.town.convoys import get_convoy


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Run the town's sessions and patrols.")
    p.add_argument("--headless", action="store_true", help="no UI: the town server, logging to stdout")
    p.add_argument("--town", type=Path, help="the town (default: GT_TOWN, or the town around the current folder)")
    p.add_argument("--until-convoy", metavar="ID", help="stop when this convoy has landed")
    p.add_argument("--timeout", type=float, default=None, help="stop after this many seconds")
    args = p.parse_args(argv)
    town = town_of(args.town)
    if not args.headless:
        from gastown_tui.app import run_app  # deferred: the headless run never loads Textual

        return int(run_app(town.root) or 0)
    if args.until_convoy:
        get_convoy(town, args.until_convoy)  # NotFound names the nearest convoys
    return serve_town(town.root, convoy=args.until_convoy, timeout=args.timeout)
