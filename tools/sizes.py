"""The largest modules and classes (by lines) under the folders named, for reports.

    python tools/sizes.py gastown_tui/beads gastown_tui/town ...
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path


def main(folders: list[str]) -> int:
    files, classes = [], []
    for folder in folders or ["gastown_tui", "widgets"]:
        for path in Path(folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            files.append((text.count("\n"), str(path)))
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.ClassDef):
                    classes.append((node.end_lineno - node.lineno + 1, f"{path}:{node.lineno} {node.name}"))
    for title, rows in (("files", files), ("classes", classes)):
        print(f"largest {title}:")
        for size, name in sorted(rows, reverse=True)[:5]:
            print(f"  {size:5d} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
