"""`gastown handoff [-m NOTE]`: end this session; a fresh one continues with the same identity."""
from __future__ import annotations

import argparse
from gastown_tui.town.cli_support import town_here
from gastown_tui.town.handoff import request_handoff
from gastown_tui.town.prime import resolve_agent


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Send a handoff note to yourself and ask for a fresh session.")
    p.add_argument("-m", "--message", dest="note", default="", help="what your successor needs to know")
    p.add_argument("--agent", help="address (default: GT_AGENT or your folder)")
    args = p.parse_args(argv)
    town = town_here()
    address = resolve_agent(town, args.agent)
    marker = request_handoff(town, address, args.note)
    print(f"Handoff recorded for {address} (note {marker['mail_id']}); this session will be replaced.")
    return 0
