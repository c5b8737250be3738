"""`gastown node add|list|show|check|remove|serve`: machines polecats may run on, over SSH."""
from __future__ import annotations

import argparse
import sys

from gastown_tui.errors import UserError


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
    rm = sub.add_parser("remove", help="forget a node")
    rm.add_argument("name")
    rm.add_argument("--force", action="store_true", help="even with polecats placed on it")
    sv = sub.add_parser("serve", help="(run on the node by the town over ssh) own this node's polecat PTYs")
    sv.add_argument("--dir", required=True)
    args = p.parse_args(argv)

    if args.cmd == "serve":
        from gastown_tui.nodes.serve import serve_stdio

        return serve_stdio(args.dir)

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
        placed = _placed(town)
        rows = [{**n.to_dict(), "polecats": placed.get(n.name, [])} for n in load_nodes(town).values()]
        print_rows(rows, as_json=args.json,
                   empty="No nodes yet (gastown node add NAME ssh://[user@]host[:port]).",
                   row=lambda n: f"{n['name']:<16} {n['url']:<36} {len(n['polecats'])}/{n['max_polecats']:<3} {n['dir']}")
    elif args.cmd == "show":
        node = get_node(town, args.name)
        info = {**node.to_dict(), "polecats": _placed(town).get(node.name, [])}
        if args.json:
            print_json(info)
        else:
            for k, v in info.items():
                print(f"{k:<14} {', '.join(v) if isinstance(v, list) else v}")
    elif args.cmd == "check":
        return _check(town, args, print_json)
    elif args.cmd == "remove":
        remove_node(town, args.name, force=args.force)
        print(f"Removed node {args.name}")
    return 0


def _placed(town) -> dict[str, list[str]]:
    """node name -> the agents placed on it."""
    from gastown_tui.nodes.placement import load_placements

    out: dict[str, list[str]] = {}
    for agent, rec in sorted(load_placements(town).items()):
        out.setdefault(rec.get("node"), []).append(agent)
    return out


def _check(town, args, print_json) -> int:
    from gastown_tui.nodes.check import probe, rig_agent_programs
    from gastown_tui.nodes.registry import get_node, load_nodes
    from gastown_tui.nodes.ssh import NodeError

    nodes = [get_node(town, args.name)] if args.name else list(load_nodes(town).values())
    if not nodes:
        raise UserError("no nodes to check (gastown node add NAME ssh://[user@]host[:port])")
    agents = args.agent if args.agent else rig_agent_programs(town)
    reports, bad = [], 0
    for node in nodes:
        try:
            facts = probe(node, agents)
        except NodeError as exc:
            bad += 1
            reports.append({"node": node.name, "reachable": False, "problems": [str(exc)]})
            continue
        report = {"reachable": True, **facts.to_dict()}
        bad += bool(report["problems"])
        reports.append(report)
    if args.json:
        print_json(reports)
    else:
        for r in reports:
            if r["problems"]:
                for line in r["problems"]:
                    print(line, file=sys.stderr)
            else:
                agents_txt = ", ".join(r["agents"]) or "sim only"
                print(f"node {r['node']}: ready (python {r['python']}, git {r['git']}, gastown {r['gastown']}, "
                      f"agents: {agents_txt})")
    return 1 if bad else 0
