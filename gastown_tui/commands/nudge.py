"""`gastown nudge ADDR MESSAGE [--urgent]`: queue text to type into an agent's terminal."""
from __future__ import annotations

import argparse
from gastown_tui.town.agents import resolve_address
from gastown_tui.town.cli_support import actor, town_here
from gastown_tui.town.events import append_event
from gastown_tui.town.nudges import enqueue
from gastown_tui.town.settings import TownSettings


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Queue a nudge; the app types it into the agent's terminal.")
    p.add_argument("address")
    p.add_argument("message", nargs="+")
    p.add_argument("--urgent", action="store_true", help="type it at once instead of waiting for idle")
    args = p.parse_args(argv)
    town = town_here()
    address = resolve_address(town, args.address, allow_overseer=False)
    text = " ".join(args.message)
    settings = TownSettings.load(town.settings_path)
    ttl = settings.timer("nudge_ttl_urgent" if args.urgent else "nudge_ttl_normal")
    me = actor()
    path = enqueue(town.runtime / "nudge_queue", address, text, sender=me, urgent=args.urgent, ttl=ttl)
    append_event(town.events_path, "nudge", me, to=address, message=text[:200], urgent=args.urgent, file=path.name)
    print(f"Queued nudge for {address}{' (urgent)' if args.urgent else ''}")
    return 0
