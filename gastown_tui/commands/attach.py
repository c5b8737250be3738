"""`gastown attach AGENT`: this terminal shows one agent's screen and types into it, over the town
server's socket, without the app (a plain terminal, an SSH session), like `tmux attach -t`. ctrl+b d
detaches; the agent keeps running. See gastown_tui/attach/."""
from __future__ import annotations

import argparse
from pathlib import Path

from gastown_tui.attach.terminal import attach
from gastown_tui.commands.town_option import town_of


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Attach this terminal to one agent of the town "
                                "(its screen, live; keys go to it). Detach with ctrl+b d; the agent keeps running.")
    p.add_argument("agent", help="the agent's address, e.g. myrig/polecats/nux or mayor")
    p.add_argument("--town", type=Path, help="the town (default: GT_TOWN, or the town around the current folder)")
    p.add_argument("--observer", action="store_true",
                   help="never resize the agent (by default the attach sizes it only when no other interactive "
                        "client is attached)")
    args = p.parse_args(argv)
    town = town_of(args.town)
    return attach(str(town.root), args.agent, observer=True if args.observer else None)
