"""`gastown agent sim`: run a built-in agent in this terminal.

Only one built-in agent exists: `sim`, the simulated coding agent
(gastown_tui/sim/agent.py). It is what the `sim` session preset runs.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from gastown_tui.errors import UserError
from gastown_tui.sim.agent import main as sim_main


def main(argv: list[str], prog: str) -> int:
    parser = argparse.ArgumentParser(prog=prog, description="Run a built-in agent in this terminal.")
    sub = parser.add_subparsers(dest="agent", metavar="AGENT")
    sim = sub.add_parser("sim", help="the simulated coding agent (no model; follows sim: instructions in beads)")
    sim.add_argument("--dir", type=Path, default=None, help="working directory (default: the current one)")
    sim.add_argument("--no-autostart", action="store_true",
                     help="wait at the prompt instead of running `gt prime` and the hooked work at once")
    args = parser.parse_args(argv)
    if args.agent is None:
        parser.print_help()
        return 2
    if args.agent == "sim":
        cwd = (args.dir or Path.cwd()).resolve()
        if not cwd.is_dir():
            raise UserError(f"--dir {cwd}: not a directory")
        return sim_main(cwd, autostart=not args.no_autostart)
    raise UserError(f"unknown agent {args.agent!r}")
