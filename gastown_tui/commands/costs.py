"""`gastown costs [--by agent|bead|convoy|rig|role|day|model] [--since DATE] [--json]`: what the agents'
model calls cost, read from what each agent CLI records in its home (gastown_tui/costs/)."""
from __future__ import annotations

import argparse
from datetime import datetime, timezone

from gastown_tui.costs.report import GROUPS, costs_report, today_start
from gastown_tui.errors import UserError
from gastown_tui.town.cli_support import print_json, town_here
from gastown_tui.town.events import since_arg


def _since(text: str | None) -> float | None:
    if not text:
        return None
    if text == "today":
        return today_start()
    try:
        d = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            return since_arg(text)
        except UserError:
            raise UserError(f"--since: not a date, time or duration: {text!r} "
                            "(use e.g. 2026-12-01, 2026-12-01T09:00Z, 2h, today)") from None
    return (d if d.tzinfo else d.replace(tzinfo=timezone.utc)).timestamp()


def main(argv: list[str], prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Tokens and money the agents spent.")
    p.add_argument("--by", choices=GROUPS, default="agent")
    p.add_argument("--since", metavar="DATE", help="only calls from then on (a date, time, duration or 'today')")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    town = town_here()
    data = costs_report(town.root, by=args.by, since=_since(args.since))
    if args.json:
        print_json(data)
        return 0
    rows = data["rows"]
    if not rows and not data["unknown_records"]:
        print("no model calls recorded" + (" since then" if args.since else "") +
              " — $0.00 (patrols are deterministic code: they make none)")
        return 0
    width = max([len(str(r[args.by])) for r in rows] + [len(args.by), 5])
    print(f"{args.by:<{width}}  {'calls':>5}  {'input':>10}  {'output':>9}  {'cache wr':>9}  {'cache rd':>10}  cost")
    for r in rows + [{args.by: "TOTAL", **data["total"]}]:
        cost = "price unknown" if r["usd"] is None else f"${r['usd']:,.4f}"
        if r["usd"] is not None and r["unpriced_tokens"]:
            cost += f" + {r['unpriced_tokens']:,} tokens price unknown"
        print(f"{str(r[args.by]):<{width}}  {r['calls']:>5}  {r['input']:>10,}  {r['output']:>9,}  "
              f"{r['cache_write']:>9,}  {r['cache_read']:>10,}  {cost}")
    if data["unknown_records"]:
        print(f"\n{data['unknown_records']} usage record(s) could not be read; their cost is unknown:")
        for line in data["problems"][:10]:
            print(f"  {line}")
    return 0
