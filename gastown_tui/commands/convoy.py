"""`gastown convoy create|add|list|status|check|close`."""
from __future__ import annotations

import argparse
from gastown_tui.town.cli_support import actor, print_json, print_rows, town_here
from gastown_tui.town.convoys import (
    add_to_convoy,
    close_convoy,
    create_convoy,
    get_convoy,
    land_ready_convoys,
    list_convoys,
)


def _tree(info) -> str:
    mark = {"closed": "✓", "hooked": "●", "in_progress": "●"}
    lines = [f"🚚 {info.id}: {info.title} [{info.status}]  {info.done}/{info.total} done"
             + (f"  owner {info.owner}" if info.owner else "")]
    for i, t in enumerate(info.tracked):
        branch = "└──" if i == len(info.tracked) - 1 else "├──"
        who = f"  ({t.assignee})" if t.assignee else ""
        lines.append(f"  {branch} {mark.get(t.status, '○')} {t.bead_id}: {t.title} [{t.status}]{who}")
    return "\n".join(lines)


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Convoys: track a set of beads to delivery.")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("create", help="a convoy tracking BEADs")
    c.add_argument("title")
    c.add_argument("beads", nargs="*")
    c.add_argument("--owner", help="who is told when it lands (default: you)")
    c.add_argument("--id", dest="convoy_id", help="use this id (default: a new hq-cv-... id)")
    c.add_argument("--json", action="store_true")
    a = sub.add_parser("add", help="track more beads")
    a.add_argument("id")
    a.add_argument("beads", nargs="+")
    ls = sub.add_parser("list", help="list convoys")
    ls.add_argument("--all", action="store_true", help="include landed ones")
    ls.add_argument("--json", action="store_true")
    st = sub.add_parser("status", help="a convoy's tracked beads and progress")
    st.add_argument("id", nargs="?")
    st.add_argument("--json", action="store_true")
    sub.add_parser("check", help="land every convoy whose beads are all closed")
    cl = sub.add_parser("close", help="close a convoy by hand")
    cl.add_argument("id")
    args = p.parse_args(argv)
    town = town_here()
    me = actor()
    if args.cmd == "create":
        cid = create_convoy(town, args.title, args.beads, owner=args.owner, actor=me, convoy_id=args.convoy_id)
        print_json({"id": cid}) if args.json else print(f"Created convoy {cid}: {args.title} ({len(args.beads)} beads)")
    elif args.cmd == "add":
        add_to_convoy(town, args.id, args.beads, actor=me)
        print(f"Added {', '.join(args.beads)} to {args.id}")
    elif args.cmd == "list":
        print_rows(list_convoys(town, include_closed=args.all), as_json=args.json, empty="No convoys.",
                   row=lambda cv: f"🚚 {cv.id:<14} {cv.done}/{cv.total}  {cv.status:<7} {cv.title}")
    elif args.cmd == "status":
        infos = [get_convoy(town, args.id)] if args.id else list_convoys(town)
        if args.json:
            print_json(infos[0] if args.id else infos)
        else:
            print("\n\n".join(_tree(i) for i in infos) if infos else "No open convoys.")
    elif args.cmd == "check":
        landed = land_ready_convoys(town, actor=me)
        print(f"Landed {', '.join(landed)}" if landed else "No convoy is ready to land.")
    elif args.cmd == "close":
        close_convoy(town, args.id, actor=me)
        print(f"Closed {args.id}")
    return 0
