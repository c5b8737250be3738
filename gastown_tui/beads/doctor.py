"""`bd doctor`: what is wrong with a ledger, and `--quarantine` for malformed lines."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gastown_tui.atomicfile import write_atomic
from gastown_tui.beads import graph
from gastown_tui.beads.jsonl import JsonlFile
from gastown_tui.filelock import FileLock

QUARANTINE_NAME = "quarantine.jsonl"


@dataclass
class Finding:
    level: str          # "error" or "warning"
    check: str
    message: str
    where: str = ""     # file:line or bead id


@dataclass
class DoctorReport:
    path: str
    beads: int = 0
    findings: list[Finding] = field(default_factory=list)
    quarantined: list[dict] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.level == "error")

    def to_json(self) -> dict:
        return {"path": self.path, "beads": self.beads, "errors": self.errors,
                "warnings": len(self.findings) - self.errors,
                "findings": [asdict(f) for f in self.findings], "quarantined": self.quarantined}


def _start(line: str, width: int = 60) -> str:
    return line[:width] + ("..." if len(line) > width else "")


def quarantine(path: Path, lock_path: Path) -> list[dict]:
    """Moves malformed lines verbatim to `.beads/quarantine.jsonl`, then rewrites the ledger without them."""
    path = Path(path)
    target = path.parent / QUARANTINE_NAME
    with FileLock(lock_path):
        store = JsonlFile(path)
        store.load(strict=False)
        bad = store.take_bad_lines()
        if not bad:
            return []
        # Quarantine first (appended, fsynced), then drop the lines: a crash between the two
        # leaves the lines in both places, never in neither.
        old = target.read_text(encoding="utf-8") if target.exists() else ""
        if old and not old.endswith("\n"):
            old += "\n"
        write_atomic(target, old + "".join(raw + "\n" for _, _, raw in bad), sync_dir=True)
        store.save()
    return [{"line": n, "reason": reason, "text": _printable(raw)} for n, reason, raw in bad]


def _printable(raw: str) -> str:
    """The line as text (undecodable bytes shown as U+FFFD; the quarantine file keeps the bytes)."""
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def diagnose(path: Path, wisps_path: Path | None = None) -> DoctorReport:
    path = Path(path)
    report = DoctorReport(str(path))
    stores = [JsonlFile(path)]
    if wisps_path is not None and Path(wisps_path).exists():
        stores.append(JsonlFile(wisps_path))
    records: dict[str, dict] = {}
    for store in stores:
        load = store.load(strict=False)
        for n, reason, raw in load.bad_lines:
            report.findings.append(Finding("error", "malformed", f"{reason}: {_start(_printable(raw))!r}", f"{store.path}:{n}"))
        for dup in load.duplicates:
            report.findings.append(Finding(
                "warning", "duplicate",
                f"{dup.id} appears on lines {', '.join(map(str, dup.lines))}; line {dup.winner} kept ({dup.reason})",
                f"{store.path}:{dup.winner}"))
        for rid, rec in store.records.items():
            if rid in records:
                report.findings.append(Finding("warning", "both-stores",
                                               f"{rid} is in both issues.jsonl and the wisp store", rid))
            records[rid] = rec
        if store is stores[0]:
            for rid, rec in store.records.items():
                if rec.get("ephemeral") or rec.get("wisp"):
                    report.findings.append(Finding("warning", "wisp-in-git",
                                                   f"{rid} is ephemeral but stored in issues.jsonl", rid))
    report.beads = sum(1 for r in records.values() if r.get("status") != "tombstone")
    for rid, rec in sorted(records.items()):
        status = rec.get("status") or "open"
        if status == "tombstone":
            continue
        if status == "closed" and not rec.get("closed_at"):
            report.findings.append(Finding("warning", "closed-at", "closed but has no closed_at", rid))
        if status != "closed" and rec.get("closed_at"):
            report.findings.append(Finding("warning", "closed-at", f"{status} but has a closed_at", rid))
        title = rec.get("title")
        if not isinstance(title, str) or not title or len(title) > 500:
            report.findings.append(Finding("warning", "title", "missing title or over 500 characters", rid))
        for dep in rec.get("dependencies") or ():
            target = dep.get("depends_on_id") or ""
            if not target.startswith("external:") and target not in records:
                report.findings.append(Finding("warning", "dangling",
                                               f"{dep.get('type')} dependency on missing {target}", rid))
    for cycle in _cycles(records):
        report.findings.append(Finding("error", "cycle", " -> ".join(cycle), cycle[0]))
    for leftover in sorted(path.parent.glob(f".{path.name}.*.tmp")):
        report.findings.append(Finding("warning", "temp-file",
                                       "left by an interrupted write (safe to delete)", str(leftover)))
    return report


def _cycles(records: dict[str, dict]) -> list[list[str]]:
    """Cycles over blocking edges (iterative DFS, one cycle reported per strongly tangled spot)."""
    color: dict[str, int] = {}
    found: list[list[str]] = []
    for root in records:
        if color.get(root):
            continue
        stack = [(root, iter(_targets(records.get(root))))]
        path = [root]
        color[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                color[node] = 2
                stack.pop()
                path.pop()
                continue
            if nxt not in records:
                continue
            c = color.get(nxt, 0)
            if c == 1:
                found.append(path[path.index(nxt):] + [nxt])
            elif c == 0:
                color[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(_targets(records.get(nxt)))))
    return found


def _targets(rec: dict | None) -> list[str]:
    if not rec:
        return []
    return [d.get("depends_on_id") for d in rec.get("dependencies") or () if d.get("type") in graph.BLOCKING_TYPES]


def stray_temp_files(beads_dir: Path) -> list[str]:
    return [os.fspath(p) for p in Path(beads_dir).glob(".*.tmp")]
