"""`gastown` / `gastown app [--town DIR] [--no-server] [--no-agents]`: open the terminal app.

The town is GT_TOWN, or the folder holding mayor/town.json at or above the
current directory (or --town); with no town the app opens on its Welcome screen.
By default the app attaches to the town's server (starting it first): the agents
live there, and ctrl+q only detaches. `--no-server` runs the town inside the app
(the agents stop with it); `--no-agents` shows the town without running agents.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from gastown_tui.ui import collector


def main(argv: list[str], prog: str) -> int:
    collector.start()  # (this process is the app's: what its start builds lives as long as it, ui/collector.py)
    parser = argparse.ArgumentParser(prog=prog, description="Open the gastown terminal app.")
    parser.add_argument("--town", type=Path, help="the town folder (default: GT_TOWN, or found upward from here)")
    parser.add_argument("--no-agents", action="store_true",
                        help="show the town without starting agent sessions or patrols (implies --no-server)")
    parser.add_argument("--no-server", action="store_true",
                        help="run the town inside this app instead of its server (the agents stop when it quits)")
    args = parser.parse_args(argv)
    # deferred: `gastown app --help` answers before any town code loads
    from gastown_tui.town.layout import NoTown, find_town

    root: Path | None
    try:
        root = find_town(args.town, env={} if args.town else None).root
    except NoTown:
        if args.town:
            raise
        root = None
    if root is not None and not (args.no_server or args.no_agents):
        # deferred: the first read starts before Textual and the app are imported (issue 11)
        from gastown_tui.client.first_read import FirstRead

        first = FirstRead.begin(root)  # the town's server is asked for the first frame's town while Textual imports
        # deferred: Textual imports while the first read is in flight
        from gastown_tui.app import attach_app

        return attach_app(root, first)
    # deferred: Textual loads only when an app is shown
    from gastown_tui.app import GastownApp

    # no town here: the Welcome screen; the town it opens runs in its server unless --no-server/--no-agents
    app = GastownApp(root, start_agents=not args.no_agents, tune_gc=True,
                     attach=root is None and not (args.no_server or args.no_agents))
    app.run()
    return int(app.return_code or 0)
