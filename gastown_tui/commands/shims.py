"""`gastown shims DIR`: write `gt` and `bd` launchers into DIR (put DIR first on an agent's PATH)."""
from __future__ import annotations

import argparse

from gastown_tui.town.shims import write_shims


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Write gt and bd launchers for agents.")
    p.add_argument("dir")
    args = p.parse_args(argv)
    for path in write_shims(args.dir):
        print(path)
    return 0
