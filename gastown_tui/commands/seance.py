"""`gastown seance [ADDR] [--session ID] [--lines N]`: read a predecessor session's transcript."""
from __future__ import annotations

import argparse

from gastown_tui.errors import NotFound
from gastown_tui.town.agents import resolve_address
from gastown_tui.town.cli_support import print_json, town_here
from gastown_tui.town.prime import resolve_agent
from gastown_tui.town.seance import (
    conversation_log,
    format_turns,
    get_session,
    list_predecessors,
    recorded_address,
    transcript_tail,
)


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="List an identity's past sessions; print one's transcript tail.")
    p.add_argument("address", nargs="?")
    p.add_argument("--session", help="session id (default: the most recent)")
    p.add_argument("--lines", type=int, default=40)
    p.add_argument("--list", action="store_true", help="only list the sessions")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    town = town_here()
    if args.address:
        try:
            address = resolve_address(town, args.address)
        except NotFound:  # not in the town any more (a reaped polecat): its sessions stay on disk
            address = recorded_address(town, args.address)
            if address is None:
                raise
    else:
        address = resolve_agent(town, None)
    sessions = list_predecessors(town, address)
    if args.json:
        print_json(sessions)
        return 0
    if not sessions:
        print(f"No recorded sessions for {address} (sessions are written by the app's session manager).")
        return 0
    for s in sessions:
        end = f"exit {s.exit_status}" if s.exit_status is not None else ("running?" if not s.ended_at else "ended")
        print(f"{s.session_id:<14} {s.started_at or '?':<28} {s.preset or '-':<8} {end}")
    if args.list:
        return 0
    chosen = get_session(town, address, args.session)
    log = conversation_log(town, chosen)
    if log is not None:
        path, turns = log
        print(f"\n--- conversation of {chosen.session_id}, last turns (from {path.name}, the CLI's own log) ---")
        print(format_turns(turns, max(1, args.lines // 2)))
    print(f"\n--- transcript tail of {chosen.session_id} ---")
    print(transcript_tail(chosen, args.lines) or "(no transcript)")
    return 0
