"""Human output for `gastown bd` (Rich tables; imported only when not printing JSON)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

if TYPE_CHECKING:
    from gastown_tui.beads.doctor import DoctorReport

STATUS_STYLE = {"open": "green", "in_progress": "yellow", "blocked": "red", "closed": "dim",
                "tombstone": "dim strike", "hooked": "magenta", "pinned": "cyan", "deferred": "blue"}


def console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def _status(s: str) -> str:
    return f"[{STATUS_STYLE.get(s, 'white')}]{s}[/]"


def table(records: list[dict], title: str | None = None, blocked: dict | None = None) -> None:
    con = console()
    if not records:
        con.print(f"[dim]{title + ': ' if title else ''}no beads[/]")
        return
    t = Table(title=title, show_lines=False, header_style="bold")
    t.add_column("ID", no_wrap=True, style="cyan")
    t.add_column("P", justify="right")
    t.add_column("Type")
    t.add_column("Status")
    t.add_column("Assignee")
    t.add_column("Title", overflow="fold")
    for r in records:
        status = r.get("status") or "open"
        note = ""
        if blocked and r["id"] in blocked:
            note = f" [red](blocked by {', '.join(blocked[r['id']][:3])})[/]"
        t.add_row(r["id"], f"P{r.get('priority', 0)}", r.get("issue_type") or "task", _status(status),
                  r.get("assignee") or "", (r.get("title") or "").replace("[", "\\[") + note)
    con.print(t)
    con.print(f"[dim]{len(records)} bead(s)[/]")


def show(rec: dict, blockers: list[str], children: list[str]) -> None:
    con = console()
    con.print(f"[bold cyan]{rec['id']}[/] [bold]{_esc(rec.get('title'))}[/]")
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold")
    t.add_column()
    rows = [("Status", _status(rec.get("status") or "open")), ("Priority", f"P{rec.get('priority', 0)}"),
            ("Type", rec.get("issue_type") or "task")]
    for key in ("assignee", "owner", "created_at", "created_by", "updated_at", "closed_at", "close_reason"):
        if rec.get(key):
            rows.append((key.replace("_", " ").capitalize(), _esc(str(rec[key]))))
    if rec.get("labels"):
        rows.append(("Labels", ", ".join(rec["labels"])))
    if blockers:
        rows.append(("Blocked by", "[red]" + ", ".join(blockers) + "[/]"))
    if children:
        rows.append(("Children", ", ".join(children)))
    for k, v in rows:
        t.add_row(k, v)
    con.print(t)
    for key in ("description", "design", "acceptance_criteria", "notes"):
        if rec.get(key):
            con.print(f"\n[bold]{key.replace('_', ' ').capitalize()}[/]")
            con.print(_esc(rec[key]))
    deps = rec.get("dependencies") or []
    if deps:
        con.print("\n[bold]Dependencies[/]")
        for d in deps:
            con.print(f"  {d.get('type')} -> {d.get('depends_on_id')}")
    comments = rec.get("comments") or []
    if comments:
        con.print("\n[bold]Comments[/]")
        for c in comments:
            con.print(f"  [dim]{c.get('created_at')} {c.get('author')}:[/] {_esc(c.get('text'))}")


def _esc(text: object) -> str:
    return str(text or "").replace("[", "\\[")


def tree(node: dict) -> None:
    def label(n: dict) -> str:
        kind = f"[dim]{n['dep_type']}[/] " if n.get("dep_type") else ""
        cyc = " [red](cycle)[/]" if n.get("cycle") else ""
        return f"{kind}[cyan]{n['id']}[/] {_status(n['status'])} {_esc(n.get('title'))}{cyc}"

    root = Tree(label(node))

    def add(branch: Tree, n: dict) -> None:
        for child in n["children"]:
            add(branch.add(label(child)), child)

    add(root, node)
    console().print(root)


def stats(data: dict) -> None:
    con = console()
    t = Table(title=f"Ledger {data['path']}", header_style="bold")
    t.add_column("")
    t.add_column("count", justify="right")
    for key in ("total", "open", "in_progress", "closed", "ready", "blocked", "wisps", "tombstones",
                "duplicate_ids_resolved"):
        t.add_row(key.replace("_", " "), str(data[key]))
    con.print(t)
    types = Table(title="By type", header_style="bold")
    types.add_column("type")
    types.add_column("count", justify="right")
    for k, v in data["by_type"].items():
        types.add_row(k, str(v))
    con.print(types)


def doctor(report: DoctorReport) -> None:
    con = console()
    if not report.findings:
        con.print(f"[green]ok[/] {report.path}: {report.beads} beads, no problems found")
    for f in report.findings:
        color = "red" if f.level == "error" else "yellow"
        con.print(f"[{color}]{f.level}[/] {f.check}: {_esc(f.where)}: {_esc(f.message)}")
    for q in report.quarantined:
        con.print(f"[cyan]quarantined[/] line {q['line']} ({q['reason']})")
