"""Unified diffs split per file and laid out as rows, unified or side by side (no Textual here)."""
from __future__ import annotations

import re
from dataclasses import dataclass

HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$")


@dataclass(frozen=True)
class DiffLine:
    kind: str  # ctx, add, del, hunk, meta
    old: int | None
    new: int | None
    text: str


@dataclass(frozen=True)
class FileDiff:
    path: str
    lines: tuple[DiffLine, ...]

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line.kind == "add")

    @property
    def removed(self) -> int:
        return sum(1 for line in self.lines if line.kind == "del")


def _path_of(header: str) -> str:
    m = re.match(r"^diff --git a/(.*?) b/(.*)$", header)
    return m.group(2) if m else header[len("diff --git "):]


def split_files(diff: str) -> list[FileDiff]:
    """One FileDiff per `diff --git` section, lines numbered on both sides."""
    files: list[FileDiff] = []
    path: str | None = None
    lines: list[DiffLine] = []
    old = new = 0
    in_hunk = False
    for raw in diff.splitlines():
        if raw.startswith("diff --git "):
            if path is not None:
                files.append(FileDiff(path, tuple(lines)))
            path, lines, in_hunk = _path_of(raw), [], False
            continue
        if path is None:
            continue
        m = HUNK.match(raw)
        if m:
            old, new, in_hunk = int(m.group(1)), int(m.group(2)), True
            lines.append(DiffLine("hunk", None, None, raw))
        elif not in_hunk:
            lines.append(DiffLine("meta", None, None, raw))
        elif raw.startswith("+"):
            lines.append(DiffLine("add", None, new, raw[1:]))
            new += 1
        elif raw.startswith("-"):
            lines.append(DiffLine("del", old, None, raw[1:]))
            old += 1
        elif raw.startswith("\\"):
            lines.append(DiffLine("meta", None, None, raw))
        else:
            lines.append(DiffLine("ctx", old, new, raw[1:] if raw.startswith(" ") else raw))
            old += 1
            new += 1
    if path is not None:
        files.append(FileDiff(path, tuple(lines)))
    return files


Pair = tuple[DiffLine | None, DiffLine | None]


def side_by_side(lines: tuple[DiffLine, ...]) -> list[Pair]:
    """Rows of (left, right): removed lines face the added lines that replace them."""
    rows: list[Pair] = []
    dels: list[DiffLine] = []
    adds: list[DiffLine] = []

    def flush() -> None:
        for i in range(max(len(dels), len(adds))):
            rows.append((dels[i] if i < len(dels) else None, adds[i] if i < len(adds) else None))
        dels.clear()
        adds.clear()

    for line in lines:
        if line.kind == "del":
            if adds:
                flush()
            dels.append(line)
        elif line.kind == "add":
            adds.append(line)
        else:
            flush()
            rows.append((line, line))
    flush()
    return rows
