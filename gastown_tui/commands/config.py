"""`gastown config get KEY | set KEY VALUE | unset KEY | list [--json]`: the town's settings, checked.

Keys are dotted paths into settings/config.json (sessions/config_keys.py lists them): role_agents.polecat,
default_agent, agents.claude.path, agents.claude.base_url, timers.witness_patrol, max_polecats, ...
"""
from __future__ import annotations

import argparse
import json

from gastown_tui.sessions import config_keys
from gastown_tui.town.cli_support import print_json, town_here


def _show(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Read and change the town's settings (settings/config.json).")
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("get", help="print one setting")
    g.add_argument("key")
    s = sub.add_parser("set", help="check and store one setting")
    s.add_argument("key")
    s.add_argument("value")
    u = sub.add_parser("unset", help="remove a setting from the file (its default applies)")
    u.add_argument("key")
    ls = sub.add_parser("list", help="every setting with its value (* = set in the file)")
    ls.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    town = town_here()
    if args.cmd == "get":
        print(_show(config_keys.get(town, args.key)))
    elif args.cmd == "set":
        value = config_keys.set_value(town, args.key, args.value)
        print(f"{args.key} = {_show(value)}   ({town.settings_path})")
    elif args.cmd == "unset":
        if config_keys.unset(town, args.key):
            print(f"{args.key} removed; its default applies")
        else:
            print(f"{args.key} was not set in {town.settings_path}")
    else:
        rows = config_keys.listing(town)
        if args.json:
            print_json({k: v for k, v, _ in rows})
        else:
            for key, value, explicit in rows:
                print(f"{'*' if explicit else ' '} {key} = {_show(value)}")
    return 0
