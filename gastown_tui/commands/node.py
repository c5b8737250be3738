"""`gastown node add|list|show|check|remove|serve`: machines polecats may run on, over SSH.

The town's side of the other subcommands is `commands/node_admin.py`, imported only when one of them runs:
`node serve` runs on the node at every connection the town makes and must start without it (placement, git,
install). tests/town/test_import_hygiene.py checks that it stays out.
"""
from __future__ import annotations

import argparse

from gastown_tui.nodes.serve import serve_stdio


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Nodes: other machines the town's polecats may run on "
                                "(over SSH; host keys checked strictly, nothing ever prompts).")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("add", help="register a node")
    a.add_argument("name")
    a.add_argument("target", help="ssh://[user@]host[:port], or a Host from ~/.ssh/config")
    a.add_argument("--dir", help="the folder on the node for its polecats' worktrees (default ~/gastown-node)")
    a.add_argument("--max-polecats", type=int, help="how many polecats may run there at once (default 4)")
    a.add_argument("--python", help="the node's python with gastown installed (default python3)")
    ls = sub.add_parser("list", help="list nodes")
    ls.add_argument("--json", action="store_true")
    sh = sub.add_parser("show", help="show one node")
    sh.add_argument("name")
    sh.add_argument("--json", action="store_true")
    ck = sub.add_parser("check", help="log in and say what the node lacks (python, git, agent CLI, gastown)")
    ck.add_argument("name", nargs="?", help="one node (default: all)")
    ck.add_argument("--agent", action="append", help="an agent CLI to look for (default: the rigs' polecat agents)")
    ck.add_argument("--json", action="store_true")
    ins = sub.add_parser("install", help="install the town's gastown on the node, offline, from the town's wheel")
    ins.add_argument("name")
    ins.add_argument("--wheelhouse", help="a folder of wheels to install from (default: built from the town's code)")
    rm = sub.add_parser("remove", help="forget a node")
    rm.add_argument("name")
    rm.add_argument("--force", action="store_true", help="even with polecats placed on it")
    sv = sub.add_parser("serve", help="(run on the node by the town over ssh) own this node's polecat PTYs")
    sv.add_argument("--dir", required=True)
    args = p.parse_args(argv)

    if args.cmd == "serve":
        return serve_stdio(args.dir)

    # deferred: the town's side, which `node serve` (above) must start without (see the module docstring)
    from gastown_tui.commands import node_admin

    return node_admin.run(args)
