"""`gastown bd`: the Beads command line over the ledger in `.beads/issues.jsonl`.

Read commands take `--json` and print plain JSON; humans get Rich tables.
Exit 0 on success, 1 on a user error (one line on stderr), 2 on usage errors.

`beads.render` (Rich) is imported (`_render`) only when a command prints for humans,
never at the top: agents run `bd ... --json` many times a session and never need Rich.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import threading
from pathlib import Path

from gastown_tui.beads import doctor
from gastown_tui.beads.actors import default_actor
from gastown_tui.beads.interop import export_lines, import_file, write_export
from gastown_tui.beads.ledger import LOCK_NAME, WISPS_NAME, Ledger, RawLedger, find_beads_dir
from gastown_tui.beads.views import dep_tree, stats
from gastown_tui.errors import NotFound, UserError
from gastown_tui.town.layout import find_town
from gastown_tui.town.ledgers import ledger_for_id, prefix_of
from gastown_tui.town.rigs import get_rig, load_registry


def _render():
    """`beads.render`, for the human-readable output (Rich tables, trees)."""
    from gastown_tui.beads import render  # deferred: Rich, which the --json output never needs

    return render


def _common(json_flag: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--db", default=argparse.SUPPRESS, metavar="PATH",
                   help="the ledger (.beads dir or issues.jsonl); default: search upward from here")
    p.add_argument("--actor", default=argparse.SUPPRESS, help="who is acting (default: $BD_ACTOR, $USER)")
    p.add_argument("--rig", default=argparse.SUPPRESS, help="use this rig's ledger (from anywhere in the town)")
    if json_flag:
        p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    return p


@functools.lru_cache(maxsize=4)  # a long-lived process (the town server) builds it once per prog
def build_parser(prog: str) -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(prog=prog, description="The Beads ledger command line.", parents=[common])
    sub = parser.add_subparsers(dest="cmd", metavar="COMMAND", required=True)

    def cmd(name, help_text, **kw):
        return sub.add_parser(name, help=help_text, description=help_text, parents=[common], **kw)

    p = cmd("init", "create .beads/ here with an empty ledger")
    p.add_argument("--prefix", help="id prefix (default: this directory's name)")

    p = cmd("create", "create a bead and print its id")
    p.add_argument("title")
    p.add_argument("-t", "--type", dest="issue_type", default="task")
    p.add_argument("-p", "--priority", default="2")
    p.add_argument("--parent")
    p.add_argument("--deps", default="", help="comma-separated [TYPE:]ID (TYPE defaults to blocks)")
    p.add_argument("-l", "--labels", default="", help="comma-separated labels")
    p.add_argument("-a", "--assignee")
    p.add_argument("-d", "--description", default="")
    p.add_argument("--id", dest="bead_id", help="use this id instead of a hash id")
    p.add_argument("--ephemeral", action="store_true", help="a wisp: stored in the git-ignored wisp store")

    p = cmd("show", "show beads")
    p.add_argument("ids", nargs="+", metavar="ID")

    p = cmd("list", "list beads (open and in progress; --all adds closed)")
    p.add_argument("--status")
    p.add_argument("-t", "--type", dest="issue_type")
    p.add_argument("-a", "--assignee")
    p.add_argument("-l", "--label")
    p.add_argument("--all", action="store_true", help="include closed beads")

    p = cmd("ready", "beads with no open blockers, in Beads' order")
    p.add_argument("--claim", action="store_true", help="atomically take the first one (in_progress, assigned)")
    p.add_argument("-a", "--assignee")
    p.add_argument("--unassigned", action="store_true")
    p.add_argument("-l", "--label")
    p.add_argument("--parent")
    p.add_argument("-n", "--limit", type=int, default=10, help="at most N (0 = all; default 10)")
    p.add_argument("-s", "--sort", choices=["hybrid", "priority", "oldest"], default="hybrid")
    p.add_argument("--include-ephemeral", action="store_true")

    p = cmd("blocked", "beads that are blocked, and by what")

    p = cmd("update", "change fields of a bead")
    p.add_argument("id")
    p.add_argument("--status")
    p.add_argument("-a", "--assignee")
    p.add_argument("-p", "--priority")
    p.add_argument("--title")
    p.add_argument("-t", "--type", dest="issue_type")
    p.add_argument("-d", "--description")
    p.add_argument("--notes")
    p.add_argument("--design")
    p.add_argument("--acceptance", dest="acceptance_criteria")
    p.add_argument("--add-label", action="append", default=[])
    p.add_argument("--remove-label", action="append", default=[])
    p.add_argument("--claim", action="store_true",
                   help="atomically take it: in_progress and assigned to you (fails if someone has it)")

    p = cmd("close", "close beads")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("-r", "--reason")

    p = cmd("reopen", "reopen beads")
    p.add_argument("ids", nargs="+", metavar="ID")

    p = cmd("dep", "dependencies: add, remove, tree")
    dsub = p.add_subparsers(dest="dep_cmd", metavar="add|remove|tree", required=True)
    for name in ("add", "remove"):
        q = dsub.add_parser(name, parents=[common], help=f"{name} a dependency: ID depends on DEPENDS_ON")
        q.add_argument("id")
        q.add_argument("depends_on")
        q.add_argument("-t", "--type", dest="dep_type", default="blocks" if name == "add" else None)
    q = dsub.add_parser("tree", parents=[common], help="what ID depends on (--reverse: what depends on ID)")
    q.add_argument("id")
    q.add_argument("--reverse", action="store_true")

    p = cmd("label", "labels: add, remove")
    lsub = p.add_subparsers(dest="label_cmd", metavar="add|remove", required=True)
    for name in ("add", "remove"):
        q = lsub.add_parser(name, parents=[common])
        q.add_argument("id")
        q.add_argument("label")

    p = cmd("comment", "comments: add")
    csub = p.add_subparsers(dest="comment_cmd", metavar="add", required=True)
    q = csub.add_parser("add", parents=[common])
    q.add_argument("id")
    q.add_argument("text")
    q.add_argument("--author")

    cmd("stats", "counts by status and type, ready and blocked")
    cmd("sync", "nothing to do: issues.jsonl itself is the record (commit it with git); kept for agents' habits",
        )

    p = cmd("export", "write every live bead in bd 1.x's export shape (JSONL; stdout, or FILE)")
    p.add_argument("file", nargs="?", type=Path, help="write here (atomically) instead of stdout")
    p.add_argument("-o", "--output", type=Path, help="the same as FILE")
    p.add_argument("--include-memories", action="store_true", help="add the memories (_type: memory lines)")
    p.add_argument("--include-wisps", action="store_true", help="add the wisps (ephemeral beads)")
    p.add_argument("--exclude-infra", action="store_true",
                   help="leave out agent, rig, role and message beads, as bd export does by default")

    p = cmd("import", "upsert the beads of a bd export, a ledger file or a bd backup set (all or nothing)")
    p.add_argument("file", type=Path)

    p = cmd("doctor", "check the ledger; --quarantine moves malformed lines aside")
    p.add_argument("--quarantine", action="store_true",
                   help="move malformed lines verbatim to .beads/quarantine.jsonl")
    return parser


def _emit(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


def _db_path(args) -> Path:
    rig = getattr(args, "rig", None)
    if rig and not getattr(args, "db", None):
        # the town layer is only needed for --rig: `bd` alone works on any .beads folder

        town = find_town()
        try:
            return get_rig(town, rig).beads_dir
        except NotFound as exc:
            rigs = ", ".join(sorted(load_registry(town))) or "none yet"
            raise NotFound(f"{exc} (this town's rigs: {rigs})") from None
    db = getattr(args, "db", None) or os.environ.get("BEADS_DIR")
    if db:
        return Path(db)
    return find_beads_dir(Path.cwd())


_OPEN = threading.local()  # per thread: a long-lived thread (the town server's exec thread) keeps them loaded
_KEEP = 16


def _cached(path: Path, strict: bool):
    """The ledger at PATH, loaded once per thread: each reloads itself when its files change on disk (a
    one-shot process opens it once anyway; the town server's exec thread answers later calls without
    parsing)."""
    key = (str(path), os.path.realpath(path), strict)  # as spelled too: messages show the path as given
    cache = getattr(_OPEN, "ledgers", None)
    if cache is None:
        cache = _OPEN.ledgers = {}
    ledger = cache.pop(key, None)
    if ledger is None or not ledger.path.exists():
        ledger = RawLedger.open(path, strict=strict)
    cache[key] = ledger  # most recently used last
    while len(cache) > _KEEP:
        del cache[next(iter(cache))]
    return ledger


def _open(args, strict: bool = True, ids=()):
    """The ledger found from here (or --db / BEADS_DIR). Inside a town, a bead id of another ledger (a rig
    bead asked for from the town root, or the other way round) is looked up in the ledger its prefix
    names, as `gastown sling` does."""
    explicit = getattr(args, "db", None) or os.environ.get("BEADS_DIR") or getattr(args, "rig", None)
    try:
        path = _db_path(args)
    except NotFound:  # no ledger up from here: the town may still know the bead's ledger
        if explicit or not ids:
            raise
        path = None
    if not explicit and ids:
        routed = _routed(ids[0], path, strict)
        if routed is not None:
            return _cached(routed, strict)
    if path is None:
        path = _db_path(args)
    return _cached(path, strict)


def _routed(bead_id: str, here: Path | None, strict: bool) -> Path | None:
    """The .beads folder of the town ledger whose prefix BEAD_ID has, when that is not HERE's ledger."""
    try:
        town = find_town()
    except UserError:
        return None
    if here is not None:
        try:
            if _cached(here, strict).prefix == prefix_of(bead_id):   # the ledger the command then uses
                return None
        except (UserError, OSError, ValueError):  # a broken ledger here: the bead's own ledger may still answer
            pass
    try:
        return ledger_for_id(town, bead_id).beads_dir
    except UserError:
        return None


def _split(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def main(argv: list[str], prog: str) -> int:
    args = build_parser(prog).parse_args(argv)
    as_json = getattr(args, "json", False)
    actor = getattr(args, "actor", None)
    handler = globals()[f"_cmd_{args.cmd}"]
    return handler(args, as_json, actor) or 0


# ---- commands --------------------------------------------------------------------------------
def _cmd_init(args, as_json, actor):
    db = getattr(args, "db", None)
    beads_dir = Path(db) if db else Path.cwd() / ".beads"
    prefix = args.prefix or "".join(c if c.isalnum() or c in "-_" else "-" for c in beads_dir.resolve().parent.name)
    prefix = prefix.strip("-") or "bd"
    ledger = Ledger.init(beads_dir, prefix)
    if as_json:
        _emit({"path": str(ledger.path), "prefix": ledger.prefix})
    else:
        print(f"initialised {ledger.path} (prefix {ledger.prefix}-)")


def _cmd_create(args, as_json, actor):
    ledger = _open(args)
    deps = []
    for item in _split(args.deps):
        kind, sep, target = item.partition(":")
        if not sep or kind == "external":
            kind, target = "blocks", item
        deps.append((kind, target))
    issue_type = args.issue_type
    rec = ledger.create(args.title, issue_type=issue_type, priority=args.priority, description=args.description,
                        parent=args.parent, deps=deps, labels=_split(args.labels), assignee=args.assignee,
                        actor=actor, id=args.bead_id, ephemeral=args.ephemeral)
    if as_json:
        _emit(rec)
    else:
        print(rec["id"])


def _cmd_show(args, as_json, actor):
    ledger = _open(args, ids=args.ids)
    recs = [ledger.raw(i) for i in args.ids]
    if as_json:
        _emit(recs[0] if len(recs) == 1 else recs)
        return
    index = ledger.blocked_index(wisps=True)
    for i, rec in enumerate(recs):
        if i:
            print()
        _render().show(rec, index.blockers.get(rec["id"], []), index.children.get(rec["id"], []))


def _cmd_list(args, as_json, actor):
    ledger = _open(args)
    recs = ledger.raw_list(status=args.status, issue_type=args.issue_type, assignee=args.assignee,
                           label=args.label, include_closed=args.all)
    if as_json:
        _emit(recs)
        return
    _render().table(recs)


def _cmd_ready(args, as_json, actor):
    ledger = _open(args)
    filters = dict(assignee=args.assignee, unassigned=args.unassigned, label=args.label, parent=args.parent,
                   sort=args.sort, include_ephemeral=args.include_ephemeral)
    if args.claim:
        who = args.assignee or actor or default_actor()
        filters.pop("assignee")
        issue = ledger.claim_next(who, **filters)
        if as_json:
            _emit(None if issue is None else issue)
        elif issue is None:
            print("nothing ready to claim", file=sys.stderr)
        else:
            print(issue["id"])
        return 0
    recs = ledger.raw_ready(limit=args.limit or None, **filters)
    if as_json:
        _emit(recs)
        return
    _render().table(recs, title="Ready work")


def _cmd_blocked(args, as_json, actor):
    ledger = _open(args)
    index = ledger.blocked_index(wisps=True)
    recs = [dict(index.records[k], blocked_by=v, blocked_by_count=len(v))
            for k, v in sorted(index.blockers.items()) if k in index.records]
    if as_json:
        _emit(recs)
        return
    _render().table(recs, title="Blocked", blocked=index.blockers)


def _cmd_update(args, as_json, actor):
    ledger = _open(args, ids=[args.id])
    fields = {k: getattr(args, k) for k in ("status", "assignee", "priority", "title", "issue_type",
                                            "description", "notes", "design", "acceptance_criteria")
              if getattr(args, k) is not None}
    if not fields and not args.add_label and not args.remove_label and not args.claim:
        raise UserError("nothing to update: give at least one of --status, --assignee, --priority, --title, ...")
    with ledger.transaction():
        issue = ledger.raw(args.id)
        if args.claim:
            issue = ledger.claim(args.id, fields.pop("assignee", None) or actor or default_actor())
        if args.add_label or args.remove_label:
            labels = set(issue.get("labels") or ())
            missing = [lb for lb in args.remove_label if lb not in labels]
            if missing:
                raise UserError(f"{args.id} has no label {missing[0]!r}")
            fields["labels"] = sorted((labels | set(args.add_label)) - set(args.remove_label)) or None
        if fields:
            issue = ledger.update(args.id, actor=actor, **fields)
    if as_json:
        _emit(issue)
    else:
        print(f"updated {issue['id']}")


def _cmd_close(args, as_json, actor):
    ledger = _open(args, ids=args.ids)
    with ledger.transaction():
        for i in args.ids:
            ledger.raw(i)
        issues = [ledger.close(i, reason=args.reason, actor=actor) for i in args.ids]
    _report(ledger, issues, as_json, "closed")


def _cmd_reopen(args, as_json, actor):
    ledger = _open(args, ids=args.ids)
    with ledger.transaction():
        issues = [ledger.reopen(i) for i in args.ids]
    _report(ledger, issues, as_json, "reopened")


def _report(ledger, issues, as_json, verb):
    if as_json:
        recs = issues
        _emit(recs[0] if len(recs) == 1 else recs)
    else:
        for i in issues:
            print(f"{verb} {i['id']}")


def _cmd_dep(args, as_json, actor):
    ledger = _open(args, ids=[args.id])
    if args.dep_cmd == "tree":
        tree = dep_tree(ledger, args.id, reverse=args.reverse)
        if as_json:
            _emit(tree)
        else:
            _render().tree(tree)
        return
    if args.dep_cmd == "add":
        issue = ledger.add_dependency(args.id, args.depends_on, args.dep_type, actor=actor)
        msg = f"{args.id} now depends on {args.depends_on} ({args.dep_type})"
    else:
        issue = ledger.remove_dependency(args.id, args.depends_on, args.dep_type)
        msg = f"removed dependency {args.id} -> {args.depends_on}"
    if as_json:
        _emit(issue)
    else:
        print(msg)


def _cmd_label(args, as_json, actor):
    ledger = _open(args, ids=[args.id])
    if args.label_cmd == "add":
        issue = ledger.add_label(args.id, args.label)
    else:
        issue = ledger.remove_label(args.id, args.label)
    if as_json:
        _emit(issue)
    else:
        print(f"{args.id}: labels {', '.join(issue.get('labels') or ()) or '(none)'}")


def _cmd_comment(args, as_json, actor):
    ledger = _open(args, ids=[args.id])
    comment = ledger.add_comment(args.id, args.text, args.author or actor)
    if as_json:
        _emit(comment)
    else:
        print(f"comment {comment['id']} added to {args.id}")


def _cmd_sync(args, as_json, actor):
    path = _db_path(args)
    message = (f"nothing to sync: {path} is written directly (no database, no daemon); "
               "commit .beads/issues.jsonl with git to share it")
    if as_json:
        _emit({"synced": False, "message": message})
    else:
        print(message)


def _cmd_stats(args, as_json, actor):
    data = stats(_open(args))
    if as_json:
        _emit(data)
    else:
        _render().stats(data)


INFRA_TYPES = ("agent", "rig", "role", "message")


def _cmd_export(args, as_json, actor):
    ledger = _open(args)
    target = args.output or args.file
    options = dict(include_memories=args.include_memories, include_wisps=args.include_wisps,
                   exclude_types=INFRA_TYPES if args.exclude_infra else ())
    if target is None:
        for line in export_lines(ledger, **options):
            sys.stdout.write(line + "\n")
        return 0
    count = write_export(ledger, target, **options)
    if as_json:
        _emit({"path": str(target), "lines": count})
    else:
        print(f"exported {count} lines to {target}", file=sys.stderr)
    return 0


def _cmd_import(args, as_json, actor):
    ledger = _open(args)
    report = import_file(ledger, args.file)
    if as_json:
        _emit({"source": report.source, "created": report.created, "updated": report.updated,
               "unchanged": report.unchanged, "stale": report.stale, "tombstones": report.tombstones,
               "memories": report.memories})
    else:
        print(report.summary())
    return 0


def _cmd_doctor(args, as_json, actor):
    path = _db_path(args)
    if path.is_dir():
        path = path / "issues.jsonl"
    if not path.exists():
        raise UserError(f"no ledger at {path}")
    quarantined = doctor.quarantine(path, path.parent / LOCK_NAME) if args.quarantine else []
    report = doctor.diagnose(path, path.parent / WISPS_NAME)
    report.quarantined = quarantined
    if as_json:
        _emit(report.to_json())
    else:
        _render().doctor(report)
    if report.errors:
        print(f"{args.prog if hasattr(args, 'prog') else 'gastown bd doctor'}: {report.errors} problem(s) found",
              file=sys.stderr)
        return 1
    return 0
