"""`gastown node add|list|show|check|remove|serve`: machines polecats may run on, over SSH.

The town's side of each subcommand is deferred (imported when it runs, each import saying so): `node serve`
runs on the node at every connection the town makes and must start without it (placement, pydantic, git,
install). tests/town/test_import_hygiene.py checks that it stays out.
"""
from __future__ import annotations

import argparse
import sys

from gastown_tui.errors import UserError
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

    # deferred: the town side, which `node serve` (above) must start without (see the module docstring)
    from gastown_tui.nodes.placement import remove_node
    from gastown_tui.nodes.registry import add_node, get_node, load_nodes
    from gastown_tui.town.cli_support import print_json, print_rows, town_here

    town = town_here()
    if args.cmd == "add":
        node = add_node(town, args.name, args.target, dir=args.dir, max_polecats=args.max_polecats,
                        python=args.python)
        print(f"Added node {node.name} ({node.url}, dir {node.dir}, max {node.max_polecats} polecats); "
              f"gastown node check {node.name} says what it lacks")
    elif args.cmd == "list":
        from gastown_tui.nodes.health import load_health  # deferred: the town side (module docstring)

        placed = _placed(town)
        health = load_health(town)
        rows = [{**n.to_dict(), "polecats": placed.get(n.name, []),
                 "health": health[n.name].to_dict() if n.name in health else None} for n in load_nodes(town).values()]
        print_rows(rows, as_json=args.json,
                   empty="No nodes yet (gastown node add NAME ssh://[user@]host[:port]).",
                   row=lambda n: f"{n['name']:<16} {n['url']:<36} {len(n['polecats'])}/{n['max_polecats']:<3} "
                                 f"{n['dir']}  {_health_word(n['health'])}")
    elif args.cmd == "show":
        from gastown_tui.nodes.health import load_health  # deferred: the town side (module docstring)

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
        from gastown_tui.nodes.install import install  # deferred: the town side (module docstring)

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
    import time

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
    from gastown_tui.nodes.placement import load_placements  # deferred: the town side (module docstring)

    out: dict[str, list[str]] = {}
    for agent, rec in sorted(load_placements(town).items()):
        out.setdefault(rec.get("node"), []).append(agent)
    return out


def _check(town, args, print_json) -> int:
    # deferred: the town side (module docstring)
    from gastown_tui.nodes.check import probe, rig_agent_programs
    from gastown_tui.nodes.registry import get_node, load_nodes
    from gastown_tui.nodes.ssh import NodeError

    nodes = [get_node(town, args.name)] if args.name else list(load_nodes(town).values())
    if not nodes:
        raise UserError("no nodes to check (gastown node add NAME ssh://[user@]host[:port])")
    from gastown_tui.nodes.health import of_facts, record, unreachable  # deferred: the town side (module docstring)

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
