"""`gastown mol ...`: cook formulas, pour molecules and wisps, follow and finish them.

    cook NAME [--var k=v] [--persist]     the proto (template beads); --persist stores it
    pour NAME --on BEAD [--var k=v]       a persistent molecule attached to BEAD; prints the root id
    wisp NAME [--var k=v] [--on BEAD]     the same in the wisp store (never in issues.jsonl)
    show ID | progress ID | next ID       ID: the root, one of its steps, or the bead it works on
    done STEP_ID [--reason R]             close a step (the root closes with its last step)
    squash ID [--summary S]               replace a finished molecule/wisp by one digest bead
    burn ID                               delete a molecule/wisp and its steps, leaving no trace

Every command takes --json; pour/wisp print the root id (the root bead with --json).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from gastown_tui.beads import find_beads_dir, ids
from gastown_tui.beads.ledger import RawLedger as Ledger  # mutations return dicts: no pydantic here
from gastown_tui.timestamps import now
from gastown_tui.errors import UserError
from gastown_tui.meow.molecule import as_record, burn, molecule_root, pour_record, squash
from gastown_tui.meow.proto import cook
from gastown_tui.meow.search import formula_search_path
from gastown_tui.meow.tracking import close_step, progress


def _vars(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs or ():
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise UserError(f"--var {pair!r}: expected NAME=VALUE")
        out[key.strip()] = value
    return out


KEEP_OPEN = False     # a long-lived caller (the Hanoi sim, a server) sets this: ledgers stay open between
_OPEN: dict = {}      # calls (each still re-reads whatever another process changed on disk)
_PARSERS: dict = {}


def build_parser(prog: str) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", type=Path, default=None, metavar="PATH",
                        help="the ledger (.beads dir or issues.jsonl); default: $BEADS_DIR, else search upward")
    common.add_argument("--town", type=Path, default=None, help="town folder for formulas (default: $GT_TOWN)")
    common.add_argument("--actor", default=None, help="who is acting (default: $BD_ACTOR, $USER)")
    common.add_argument("--json", action="store_true", help="print JSON")
    with_vars = argparse.ArgumentParser(add_help=False)
    with_vars.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="a formula var")
    parser = argparse.ArgumentParser(prog=prog, description="Cook, pour, follow and finish molecules.",
                                     parents=[common])
    sub = parser.add_subparsers(dest="cmd", metavar="COMMAND", required=True)

    def cmd(name, help_text, *extra):
        return sub.add_parser(name, help=help_text, description=help_text, parents=[common, *extra])

    p = cmd("cook", "cook a formula into a proto and print it", with_vars)
    p.add_argument("name")
    p.add_argument("--persist", action="store_true", help="store the proto's template beads in the ledger")
    p = cmd("pour", "pour a formula as a molecule attached to a bead", with_vars)
    p.add_argument("name")
    p.add_argument("--on", required=True, metavar="BEAD", help="the bead the molecule works on")
    p.add_argument("--force", action="store_true", help="burn a molecule already attached to BEAD")
    p = cmd("wisp", "instantiate a formula as a wisp (ephemeral)", with_vars)
    p.add_argument("name")
    p.add_argument("--on", metavar="BEAD", help="attach the wisp to this bead")
    p.add_argument("--force", action="store_true", help="burn a molecule already attached to BEAD")
    for name, text in (("show", "a molecule and its steps"), ("progress", "steps done, ready and next"),
                       ("next", "the step to do now")):
        cmd(name, text).add_argument("id", metavar="ID")
    p = cmd("done", "close a step")
    p.add_argument("step_id", metavar="STEP_ID")
    p.add_argument("--reason", default=None)
    p.add_argument("--force", action="store_true", help="close it even if steps it needs are open")
    p = cmd("squash", "replace a finished molecule or wisp by one digest bead")
    p.add_argument("id", metavar="ID")
    p.add_argument("--summary", default=None)
    p.add_argument("--force", action="store_true", help="squash even with open steps")
    p = cmd("burn", "delete a molecule or wisp and all its steps")
    p.add_argument("id", metavar="ID")
    return parser


def _ledger(args):
    if KEEP_OPEN:
        key = (str(args.db) if args.db else None, os.environ.get("BEADS_DIR"), os.getcwd())
        ledger = _OPEN.get(key)
        if ledger is not None:
            return ledger
    db = args.db or (Path(os.environ["BEADS_DIR"]) if os.environ.get("BEADS_DIR") else None)
    ledger = Ledger.open(db if db is not None else find_beads_dir(Path.cwd()))
    if KEEP_OPEN:
        _OPEN[key] = ledger
    return ledger


def _search_path(args, ledger=None):
    rig = ledger.beads_dir if ledger is not None else None
    if rig is None:
        try:
            db = args.db or (Path(os.environ["BEADS_DIR"]) if os.environ.get("BEADS_DIR") else None)
            if db is None:
                rig = find_beads_dir(Path.cwd())
            else:
                rig = db if db.is_dir() else db.parent
        except UserError:
            rig = None
    return formula_search_path(rig, args.town)


def _print_json(data) -> None:
    if KEEP_OPEN:       # a program reads it: one line, from the C encoder (indent= is pure Python, slow)
        sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str))
    else:
        json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def main(argv: list[str], prog: str) -> int:
    parser = _PARSERS.get(prog)
    if parser is None:
        parser = _PARSERS[prog] = build_parser(prog)
    args = _hot(argv) or parser.parse_args(argv)
    handler = globals()[f"_cmd_{args.cmd}"]
    return handler(args) or 0


_HOT = ("next", "done", "progress")


def _hot(argv: list[str]):
    """`next|done|progress ID --json`, an agent's every step: parsed without argparse (a third of its cost)."""
    if len(argv) == 3 and argv[0] in _HOT and argv[2] == "--json" and not argv[1].startswith("-"):
        return argparse.Namespace(cmd=argv[0], id=argv[1], step_id=argv[1], json=True, db=None, town=None,
                                  actor=None, reason=None, force=False)
    return None


def _cmd_cook(args) -> int:
    ledger = _ledger(args) if args.persist else None
    proto = cook(args.name, _vars(args.var), _search_path(args, ledger))
    if args.persist:
        proto_id = _persist(ledger, proto, args.actor)
        if args.json:
            _print_json(ledger.raw(proto_id))
        else:
            print(proto_id)
        return 0
    if args.json:
        _print_json(proto.to_json())
        return 0
    print(f"proto {proto.name} ({proto.formula.type})" + (
        "  vars: " + ", ".join(f"{k}={v}" for k, v in proto.vars.items()) if proto.vars else ""))
    for step in proto.iter_steps():
        needs = f"  (needs {', '.join(step.needs)})" if step.needs else ""
        print(f"  {step.id}: {step.title}{needs}")
    return 0


def _persist(ledger, proto, actor) -> str:
    """Stores the proto's template beads (id = formula name, or <prefix>-proto-<name>)."""
    proto_id = proto.name if ids.is_valid_id(proto.name) else f"{ledger.prefix}-proto-{proto.name}"
    if ledger.raw_find(proto_id) is not None:
        raise UserError(f"proto {proto_id} is already in the ledger (burn it with `gastown bd` first)")
    ledger.bulk_create(proto.template_beads(proto_id, now()), actor=actor)
    return proto_id


def _instantiate(args, ephemeral: bool) -> int:
    ledger = _ledger(args)
    record = pour_record(ledger, args.name, ephemeral=ephemeral, on=args.on, vars=_vars(args.var),
                         search_path=_search_path(args, ledger), actor=args.actor, force=args.force)
    if args.json:
        _print_json(record)
    else:
        print(record["id"])
    return 0


def _cmd_pour(args) -> int:
    return _instantiate(args, ephemeral=False)


def _cmd_wisp(args) -> int:
    return _instantiate(args, ephemeral=True)


def _cmd_show(args) -> int:
    ledger = _ledger(args)
    p = progress(ledger, args.id)
    if args.json:
        data = p.to_json()
        data["root"] = ledger.raw(p.root)
        _print_json(data)
        return 0
    kind = "wisp" if p.ephemeral else "molecule"
    print(f"{kind} {p.root}: {p.title}  [{p.status}]")
    if p.formula:
        print(f"  formula: {p.formula}")
    if p.attached_to:
        print(f"  works on: {p.attached_to}")
    print(f"  {p.done}/{p.total} steps done")
    nxt = p.next
    sample = p.window() if hasattr(p, "window") else p.steps      # a lazy wisp: its steps are made as printed
    width = max((len(s.id) for s in sample), default=0)
    for s in p.steps:
        state = "ready" if s.ready else s.status if s.status != "open" else "waiting"
        arrow = "  <- next" if nxt is not None and s.id == nxt.id else ""
        print(f"  {s.id:<{width}}  {state:<11}  {s.title}{arrow}")
    return 0


def _cmd_progress(args) -> int:
    p = progress(_ledger(args), args.id)
    if args.json:
        big = hasattr(p, "window") and p.total > 20_000
        data = p.to_json(with_steps=False) if hasattr(p, "window") else p.to_json()
        data.pop("steps", None)
        if big:     # a million ids would be tens of MB: a big lazy wisp's steps are done in order up to next
            data["steps_done_count"] = p.done
        else:
            data["steps_done"] = [s.id for s in p.steps if s.done]
        _print_json(data)
        return 0
    nxt = p.next
    print(f"{p.root}: {p.done}/{p.total} steps done" + (" (complete)" if p.complete else ""))
    print("ready: " + (", ".join(s.id for s in p.ready) or "none"))
    print("next: " + (nxt.id if nxt else "none"))
    return 0


def _cmd_next(args) -> int:
    ledger = _ledger(args)
    with ledger.transaction():          # one consistent read; files are checked once, not per bead
        p = progress(ledger, args.id)
        nxt = p.next
        if args.json:
            _print_json(ledger.raw(nxt.id) if nxt else None)
            return 0
    if nxt is None:
        print("all steps are done" if p.complete else "no step is ready")
        return 0
    print(f"{nxt.id}  {nxt.title}")
    if nxt.description:
        print()
        print(nxt.description)
    if nxt.acceptance:
        print(f"\nDone when: {nxt.acceptance}")
    return 0


def _cmd_done(args) -> int:
    # deferred: town.ralph brings pydantic (through town.handoff); of `gt mol`, only closing a step needs it
    from gastown_tui.town.ralph import check_before_close

    ledger = _ledger(args)
    # A Ralph step closes only when its check passes; the check runs before the ledger is locked.
    check_before_close(ledger, args.step_id, actor=args.actor)
    with ledger.transaction():
        step = as_record(close_step(ledger, args.step_id, reason=args.reason, actor=args.actor, force=args.force))
        p = progress(ledger, args.step_id)
        nxt = p.next
    if args.json:
        _print_json({"closed": as_record(step), "done": p.done, "total": p.total,
                     "complete": p.complete, "next_step": nxt.id if nxt else None})
        return 0
    print(f"closed {step['id']} ({p.done}/{p.total} done)")
    if p.complete:
        print(f"molecule {p.root} is complete")
    elif nxt is not None:
        print(f"next: {nxt.id}  {nxt.title}")
    return 0


def _cmd_squash(args) -> int:
    ledger = _ledger(args)
    digest = squash(ledger, args.id, summary=args.summary, force=args.force, actor=args.actor)
    if args.json:
        _print_json(ledger.raw(digest))
    else:
        print(digest)
    return 0


def _cmd_burn(args) -> int:
    ledger = _ledger(args)
    root = molecule_root(ledger, args.id)["id"]
    burn(ledger, root)
    if args.json:
        _print_json({"burned": root})
    else:
        print(f"burned {root}")
    return 0
