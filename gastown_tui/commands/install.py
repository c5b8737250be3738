"""`gastown install [DIR]`: create a town."""
from __future__ import annotations

import argparse


def main(argv: list[str], prog: str) -> int:
    from gastown_tui.town.install import install_town

    p = argparse.ArgumentParser(prog=prog, description="Create a town (mayor/town.json marks its root).")
    p.add_argument("dir", nargs="?", default=".", help="where (default: here)")
    p.add_argument("--name", help="the town's name (default: the folder's name)")
    args = p.parse_args(argv)
    town = install_town(args.dir, name=args.name)
    print(f"Created town at {town.root}")
    print(f"  next: gastown rig add NAME SOURCE   (in {town.root}, or with GT_TOWN={town.root})")
    return 0
