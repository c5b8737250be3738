"""`gastown demo`: a demo town whose simulated polecats land a five-bead convoy on a sample project.

    gastown demo                          build it in a new temp folder, start its server, attach the app
    gastown demo --headless --until-landed --timeout 120
                                          run the factory with no UI until the convoy lands
    gastown demo --headless --chaos       ... while killing and restarting polecats at random (seeded)
    gastown demo hanoi [--discs N] [--headless] [--chaos] [--seed S]
                                          a polecat works MAKER's Hanoi wisp to the end (demo/hanoi.py)
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from gastown_tui.demo.build import build_demo_town, load_demo
from gastown_tui.demo.hanoi import main as hanoi_main
from gastown_tui.demo.run import Chaos, run_factory
from gastown_tui.demo.verify import check_demo
from gastown_tui.errors import UserError


def build_parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Create a demo town and run the factory on it.")
    p.add_argument("--dir", type=Path, help="folder for the demo (new or empty; one holding a demo continues it)")
    p.add_argument("--polecats", type=int, default=3, help="polecats working at once (default 3)")
    p.add_argument("--headless", action="store_true", help="run sessions and patrols with no UI, logging to stdout")
    p.add_argument("--until-landed", action="store_true", help="stop when the demo convoy has landed")
    p.add_argument("--timeout", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--chaos", action="store_true", help="kill and restart polecats at random while it runs")
    p.add_argument("--seed", type=int, default=7, help="random seed for --chaos (default 7)")
    p.add_argument("--pace", type=float, default=None,
                   help="seconds each simulated agent pauses after an action, so you can watch it "
                        "(default 1.5 in the app, 0 with --headless)")
    return p


def main(argv: list[str], prog: str) -> int:
    if argv[:1] == ["hanoi"]:       # gastown demo hanoi [--discs N] [--headless] [--chaos] [--seed S]
        return hanoi_main(argv[1:], f"{prog} hanoi", open_app=_open_app)  # the town's server runs the sim
    args = build_parser(prog).parse_args(argv)
    if args.timeout is not None and args.timeout <= 0:
        raise UserError(f"--timeout must be more than zero, got {args.timeout:g}")
    root = args.dir or Path(tempfile.mkdtemp(prefix="gastown-demo-"))
    if (root / "demo.json").exists():
        demo = load_demo(root)
        print(f"continuing the demo town in {demo.town.root}")
    else:
        pace = args.pace if args.pace is not None else (0.0 if args.headless else 1.5)
        demo = build_demo_town(root, polecats=args.polecats, pace=pace)
        print(f"demo town: {demo.town.root}")
        print(f"rig {demo.rig.name} (sample project: {demo.root / 'project'}), convoy {demo.convoy} "
              f"tracking {len(demo.beads)} beads; {args.polecats} polecat(s) at once")
    sys.stdout.flush()
    if not args.headless:
        return _open_app(demo.town.root)
    chaos = Chaos(seed=args.seed) if args.chaos else None
    outcome = asyncio.run(run_factory(demo.town.root, convoy=demo.convoy if args.until_landed else None,
                                      timeout=args.timeout, chaos=chaos,
                                      log=lambda line: print(line, flush=True)))
    print(f"factory stopped ({outcome.stopped_by}) after {outcome.seconds:.1f}s"
          + (f"; chaos: {len(outcome.chaos)} strike(s)" if chaos else ""))
    if not args.until_landed:
        return 0
    check = check_demo(demo)
    print(check.summary())
    if not check.tests_pass:
        print(check.tests_tail, file=sys.stderr)
    return 0 if check.ok else 1


def _open_app(town_root: Path) -> int:
    from gastown_tui.app import attach_app  # deferred: the headless demo never loads Textual

    return int(attach_app(town_root) or 0)
