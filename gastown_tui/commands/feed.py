"""`gastown feed [--since 1h] [--type T] [--json]`: the town's event log."""
from __future__ import annotations

import argparse
from gastown_tui.town.cli_support import print_json, town_here
from gastown_tui.town.events import format_event, read_events, since_arg


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Print the town's events (.events.jsonl).")
    p.add_argument("--since", help="e.g. 10m, 1h, or an ISO time")
    p.add_argument("--type", action="append", help="only these event types (repeatable)")
    p.add_argument("-n", "--limit", type=int, help="only the last N")
    p.add_argument("--json", action="store_true", help="one JSON array of events")
    args = p.parse_args(argv)
    town = town_here()
    events = read_events(town.events_path, since=since_arg(args.since) if args.since else None,
                         types=set(args.type) if args.type else None, limit=args.limit)
    if args.json:
        print_json([e.to_dict() for e in events])
    else:
        for e in events:
            print(format_event(e))
    return 0
