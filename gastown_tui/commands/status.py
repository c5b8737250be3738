"""`gastown status [--json]`: the town server's pid, version, uptime, clients and every agent."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gastown_tui.client import control
from gastown_tui.commands.town_option import town_of
from gastown_tui.server import paths


def _uptime(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m{s % 60:02d}s" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Show the town server and its agents.")
    p.add_argument("--town", type=Path, help="the town (default: GT_TOWN, or the town around the current folder)")
    p.add_argument("--json", action="store_true", help="print the server's status reply as JSON")
    args = p.parse_args(argv)

    town = town_of(args.town)
    st = control.status(town.root)
    if st is None:
        if args.json:
            sys.stdout.write(json.dumps({"running": False, "town": str(town.root)}) + "\n")
        else:
            print(f"no server runs for {town.root} (start it with `gastown up`)")
        return 1
    if args.json:
        sys.stdout.write(json.dumps({"running": True, **st}, indent=2) + "\n")
        return 0
    print(f"server pid {st['server_pid']}  gastown {st['version']}  up {_uptime(st['uptime'])}")
    print(f"town   {st['town']}")
    print(f"socket {paths.socket_path(str(town.root))}")
    if st.get("exec_running"):
        r = st["exec_running"]
        print(f"running `{' '.join(r['argv'])}` for {r['seconds']:.1f}s ({st.get('exec_waiting', 1) - 1} waiting)")
    clients = st["clients"]
    print(f"clients ({len(clients)}):" + ("" if clients else " none"))
    for c in clients:
        print(f"  {c['id']:<5} {c['client']:<8} pid {c['pid']:<7} {'interactive' if c['interactive'] else 'observer'}"
              + (f"  focus {c['focus']}" if c.get("focus") else ""))
    agents = st["agents"]
    print(f"agents ({len(agents)}):" + ("" if agents else " none"))
    width = max([len(a["address"]) for a in agents] + [5])
    for a in agents:
        print(f"  {a['address']:<{width}}  pid {a['pid'] or '-':<7} {a['state']:<15} {a['cols']}x{a['rows']:<4}"
              f" hook {a.get('hook') or '-'}")
    return 0
