"""`gastown hook [show|clear] [ADDR]`: what is on a hook; clear it."""
from __future__ import annotations

import argparse
from gastown_tui.town.agents import resolve_address
from gastown_tui.town.cli_support import actor, print_json, town_here
from gastown_tui.town.hooks import hooked_work, unhook_agent
from gastown_tui.town.prime import resolve_agent


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Show or clear an agent's hook.")
    p.add_argument("words", nargs="*", metavar="[show|clear] [ADDR]",
                   help="action (default show) and address (default: GT_AGENT or the agent whose folder you are in)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    words = list(args.words)
    args.action = words.pop(0) if words and words[0] in ("show", "clear") else "show"
    if len(words) > 1:
        p.error(f"unexpected arguments: {' '.join(words[1:])}")
    args.address = words[0] if words else None
    town = town_here()
    address = resolve_address(town, args.address) if args.address else resolve_agent(town, None)
    if args.action == "clear":
        bead = unhook_agent(town, address, actor=actor(), reason="cleared")
        print(f"Cleared {address}'s hook ({bead.id} is open again)" if bead else f"{address}'s hook was empty")
        return 0
    bead = hooked_work(town, address)
    if args.json:
        print_json({"agent": address, "hook": bead.to_record() if bead else None})
    elif bead is None:
        print(f"{address}: hook empty")
    else:
        print(f"{address}: {bead.id} — {bead.title} (P{bead.priority}, {bead.status})")
    return 0
