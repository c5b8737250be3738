"""`gastown mail send|inbox|read|reply|archive|thread`."""
from __future__ import annotations

import argparse
from gastown_tui.town.agents import resolve_address
from gastown_tui.town.cli_support import actor, print_json, town_here
from gastown_tui.town.mail import archive, inbox, read_mail, reply, send_mail, thread


def _print_list(msgs) -> None:
    if not msgs:
        print("No mail.")
    for m in msgs:
        flag = " " if m.read else "●"
        print(f"{flag} {m.id:<14} {m.created_at[:16].replace('T', ' ')}  {m.sender:<26} {m.subject}")


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Mail between agents (durable; one bead per recipient).")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send", help="send mail to an address or group (@town, @witnesses, @rig/NAME, ...)")
    s.add_argument("to")
    s.add_argument("-s", "--subject", required=True)
    s.add_argument("-m", "--message", "--body", dest="body", default="")
    s.add_argument("--type", default="notification")
    s.add_argument("--priority", type=int, default=2)
    s.add_argument("--urgent", action="store_true", help="priority 0")
    s.add_argument("--json", action="store_true")
    i = sub.add_parser("inbox", help="list mail (default: your own)")
    i.add_argument("address", nargs="?")
    i.add_argument("--unread", action="store_true")
    i.add_argument("--all", action="store_true", help="include archived")
    i.add_argument("--json", action="store_true")
    r = sub.add_parser("read", help="print a message and mark it read")
    r.add_argument("id")
    r.add_argument("--json", action="store_true")
    rp = sub.add_parser("reply", help="reply to a message's sender")
    rp.add_argument("id")
    rp.add_argument("-m", "--message", dest="body", required=True)
    rp.add_argument("-s", "--subject")
    ar = sub.add_parser("archive", help="archive (close) a message")
    ar.add_argument("id", nargs="+")
    th = sub.add_parser("thread", help="a message's whole thread")
    th.add_argument("id")
    th.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    town = town_here()
    me = actor()
    if args.cmd == "send":
        ids = send_mail(town, me, args.to, args.subject, args.body, type=args.type,
                        priority=0 if args.urgent else args.priority)
        if args.json:
            print_json(ids)
        else:
            print(f"Sent {len(ids)} message(s): {', '.join(ids)}")
    elif args.cmd == "inbox":
        who = resolve_address(town, args.address) if args.address else me
        msgs = inbox(town, who, unread_only=args.unread, include_archived=args.all)
        print_json(msgs) if args.json else _print_list(msgs)
    elif args.cmd == "read":
        m = read_mail(town, args.id, me)
        if args.json:
            print_json(m)
        else:
            print(f"From: {m.sender}\nTo: {m.to}\nDate: {m.created_at}\nSubject: {m.subject}\nId: {m.id}\n")
            print(m.body)
    elif args.cmd == "reply":
        mid = reply(town, args.id, args.body, sender=me, subject=args.subject)
        print(f"Sent reply {mid}")
    elif args.cmd == "archive":
        for mid in args.id:
            archive(town, mid, me)
        print(f"Archived {', '.join(args.id)}")
    elif args.cmd == "thread":
        msgs = thread(town, args.id)
        print_json(msgs) if args.json else _print_list(msgs)
    return 0
