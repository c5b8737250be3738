"""The town's side of `gastown node`: add, list, show, check, install and remove nodes (commands/node.py
parses the command line; `node serve`, the node's side, does not load this module)."""
from __future__ import annotations

import argparse
import sys
import time

from gastown_tui.errors import UserError
from gastown_tui.nodes.check import probe, rig_agent_programs
from gastown_tui.nodes.health import load_health, of_facts, record, unreachable
from gastown_tui.nodes.install import install
from gastown_tui.nodes.placement import load_placements, remove_node
from gastown_tui.nodes.registry import add_node, get_node, load_nodes
from gastown_tui.nodes.ssh import NodeError
from gastown_tui.town.cli_support import print_json, print_rows, town_here


def run(args: argparse.Namespace) -> int:
    """Runs `gastown node ARGS` (every subcommand but serve)."""
    town = town_here()
    if args.cmd == "add":
        node = add_node(town, args.name, args.target, dir=args.dir, max_polecats=args.max_polecats,
                        python=args.python)
        print(f"Added node {node.name} ({node.url}, dir {node.dir}, max {node.max_polecats} polecats); "
              f"gastown node check {node.name} says what it lacks")
    elif args.cmd == "list":
        placed = _placed(town)
        health = load_health(town)
        rows = [{**n.to_dict(), "polecats": placed.get(n.name, []),
                 "health": health[n.name].to_dict() if n.name in health else None} for n in load_nodes(town).values()]
        print_rows(rows, as_json=args.json,
                   empty="No nodes yet (gastown node add NAME ssh://[user@]host[:port]).",
                   row=lambda n: f"{n['name']:<16} {n['url']:<36} {len(n['polecats'])}/{n['max_polecats']:<3} "
                                 f"{n['dir']}  {_health_word(n['health'])}")
    elif args.cmd == "show":
        node = get_node(town, args.name)
        health = load_health(town).get(node.name)
        info = {**node.to_dict(), "polecats": _placed(town).get(node.name, []),
                "health": health.to_dict() if health else None}
        if args.json:
            print_json(info)
        else:
            for k, v in info.items():
                v = _health_word(v) if k == "health" else v
                print(f"{k:<14} {', '.join(v) if isinstance(v, list) else v}")
    elif args.cmd == "check":
        return _check(town, args, print_json)
    elif args.cmd == "install":
        node, facts = install(town, get_node(town, args.name), args.wheelhouse,
                              log=lambda line: print(line, file=sys.stderr))
        problems = facts.problems()
        for line in problems:
            print(line, file=sys.stderr)
        print(f"Installed gastown {facts.gastown} on node {node.name} ({node.python}); "
              + ("ready" if not problems else "not ready yet (see above)"))
        return 1 if problems else 0
    elif args.cmd == "remove":
        remove_node(town, args.name, force=args.force)
        print(f"Removed node {args.name}")
    return 0


def _health_word(h: dict | None) -> str:
    """The last check, in a few words: 'ready, load 0.52/2 cores, 12s ago', 'DOWN', 'not ready'."""
    if h is None:
        return "not checked yet"
    age = f"{int(time.time() - h['at'])}s ago"
    if not h["reachable"]:
        return f"DOWN ({age})"
    if not h["ready"]:
        return f"not ready ({age})"
    load = f", load {h['load1']:.2f}/{h['cores']} cores" if h.get("load1") is not None else ""
    return f"ready{load} ({age})"


def _placed(town) -> dict[str, list[str]]:
    """node name -> the agents placed on it."""
    out: dict[str, list[str]] = {}
    for agent, rec in sorted(load_placements(town).items()):
        out.setdefault(rec.get("node"), []).append(agent)
    return out


def _check(town, args, print_json) -> int:
    nodes = [get_node(town, args.name)] if args.name else list(load_nodes(town).values())
    if not nodes:
        raise UserError("no nodes to check (gastown node add NAME ssh://[user@]host[:port])")
    agents = args.agent if args.agent else rig_agent_programs(town)
    reports, bad, healths = [], 0, []
    for node in nodes:
        try:
            facts = probe(node, agents, fresh=True)  # a check logs in: it finds a node that no longer takes logins
        except NodeError as exc:
            bad += 1
            reports.append({"node": node.name, "reachable": False, "problems": [str(exc)]})
            healths.append(unreachable(node.name, str(exc)))
            continue
        report = {"reachable": True, **facts.to_dict()}
        bad += bool(report["problems"])
        reports.append(report)
        healths.append(of_facts(facts))
    if not args.agent:  # what placement reads (a check for other agent CLIs says nothing about the rigs')
        record(town, *healths)
    if args.json:
        print_json(reports)
    else:
        for r in reports:
            if r["problems"]:
                for line in r["problems"]:
                    print(line, file=sys.stderr)
            else:
                agents_txt = ", ".join(r["agents"]) or "sim only"
                load = (f", load {r['load1']:.2f} on {r['cores']} cores, {r['mem_avail_mb']} MB free"
                        if r.get("load1") is not None else "")
                print(f"node {r['node']}: ready (python {r['python']}, git {r['git']}, gastown {r['gastown']}, "
                      f"agents: {agents_txt}{load})")
    return 1 if bad else 0
