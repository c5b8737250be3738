"""`gastown up`: start the town's server in the background (idempotent); prints its pid and socket."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from gastown_tui import __version__
from gastown_tui.client import control
from gastown_tui.commands.town_option import town_of
from gastown_tui.errors import UserError
from gastown_tui.server import paths
from gastown_tui.server.keeper import request_upgrade, running_keeper


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Start the town's server in the background (its own "
                                "session, logging to .runtime/server.log). Does nothing if one already runs.")
    p.add_argument("--town", type=Path, help="the town (default: GT_TOWN, or the town around the current folder)")
    p.add_argument("--upgrade", action="store_true",
                   help="replace a running server with the version installed now, keeping every agent (its "
                        "keeper starts the new server, which adopts them; clients reconnect)")
    args = p.parse_args(argv)
    town = town_of(args.town)
    if args.upgrade:
        if running_keeper(str(town.root)) is not None:
            try:
                old, new = request_upgrade(str(town.root))
            except RuntimeError as exc:
                raise UserError(str(exc)) from None
            deadline = time.monotonic() + 60
            while (control.answering(town.root, timeout=1.0) or {}).get("server_pid") != new:
                if time.monotonic() > deadline:
                    raise UserError(f"the new server (pid {new}) does not answer on {paths.socket_path(str(town.root))}; "
                                    f"see {paths.log_path(str(town.root))}")
                time.sleep(0.05)
            print(f"upgraded: server pid {old or '?'} -> {new}, agents kept; socket {paths.socket_path(str(town.root))}")
            return 0
        if control.serving_pid(str(town.root)):
            raise UserError("this town's server runs without a keeper (started by `gastown server`), so it cannot "
                            "be replaced without stopping its agents; `gastown down` then `gastown up`")
    try:
        pid, started = control.start_background(town.root)
    except RuntimeError as exc:
        raise UserError(str(exc)) from None
    sock = paths.socket_path(str(town.root))
    print(f"{'started' if started else 'already running'}: pid {pid}, socket {sock}")
    if not started:
        running = (control.answering(town.root) or {}).get("version")
        if running and running != __version__:
            print(f"the server runs gastown {running}; {__version__} is installed: `gastown up --upgrade` replaces "
                  f"it and keeps every agent")
    return 0
