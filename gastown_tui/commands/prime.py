"""`gastown prime [--agent ADDR] [--json]`: what an agent reads first."""
from __future__ import annotations

import argparse
from gastown_tui.meow import checklist as molecule_checklist
from gastown_tui.town.cli_support import print_json, town_here
from gastown_tui.town.ledgers import ledger_for_id
from gastown_tui.town.prime import prime_info, render_prime, resolve_agent


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Print an agent's role, rules, hook and checklist.")
    p.add_argument("--agent", help="address (default: GT_AGENT, else the agent whose folder you are in)")
    p.add_argument("--json", action="store_true", help="the machine-readable shape (docs/contracts.md)")
    p.add_argument("--hook", action="store_true", help="accepted for Gas Town compatibility (SessionStart hooks)")
    args = p.parse_args(argv)
    town = town_here()
    info = prime_info(town, resolve_agent(town, args.agent))
    if args.json:
        print_json(info)
        return 0
    checklist = None
    if info.get("molecule"):
        checklist = molecule_checklist(ledger_for_id(town, info["hook"]["id"]), info["molecule"]["id"])
    print(render_prime(info, checklist), end="")
    return 0
