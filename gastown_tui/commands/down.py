"""`gastown down`: stop every agent of the town and its server; no process is left behind."""
from __future__ import annotations

import argparse
from pathlib import Path

from gastown_tui.client import control
from gastown_tui.commands.town_option import town_of
from gastown_tui.errors import UserError


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Stop every agent of the town, then its server.")
    p.add_argument("--town", type=Path, help="the town (default: GT_TOWN, or the town around the current folder)")
    p.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the server to end (default 60)")
    args = p.parse_args(argv)
    town = town_of(args.town)
    try:
        pid = control.stop(town.root, wait=args.wait)
    except TimeoutError as exc:
        raise UserError(str(exc)) from None
    print(f"stopped the town server (pid {pid}) and its agents" if pid else f"no server runs for {town.root}")
    return 0
