"""Where formulas are found: a rig's `.beads/formulas/`, then the town's
`formulas/` (and the town's `.beads/formulas/`), then the built-in `formulas/`
shipped with the package. A nearer file overrides a farther one of the same name.

A formula's name is its `formula = "..."` key (falling back to the file name
before `.formula.toml`), so `gastown__shiny.formula.toml` is found as `shiny`.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from gastown_tui.errors import not_found
from gastown_tui.meow.model import Formula
from gastown_tui.meow.parse import read_formula_file
from gastown_tui.resources import formulas_dir

SUFFIXES = (".formula.toml", ".formula.json")
NAME_RE = re.compile(r"""^\s*formula\s*=\s*(["'])(.*?)\1\s*(?:#.*)?$""", re.M)
JSON_NAME_RE = re.compile(r'"formula"\s*:\s*"([^"]*)"')


def formula_search_path(rig_dir: Path | None = None, town_dir: Path | None = None) -> list[Path]:
    """The folders searched for formulas, nearest first.

    `rig_dir` is a rig (or any folder with a `.beads/`), or a `.beads` folder itself.
    `town_dir` defaults to $GT_TOWN when that is set.
    """
    path: list[Path] = []
    if rig_dir is not None:
        rig_dir = Path(rig_dir)
        beads = rig_dir if rig_dir.name == ".beads" else rig_dir / ".beads"
        path.append(beads / "formulas")
    if town_dir is None and os.environ.get("GT_TOWN"):
        town_dir = Path(os.environ["GT_TOWN"])
    if town_dir is not None:
        town_dir = Path(town_dir)
        path += [town_dir / "formulas", town_dir / ".beads" / "formulas"]
    path.append(formulas_dir())
    out: list[Path] = []
    for p in path:
        if p not in out:
            out.append(p)
    return out


def is_formula_file(path: Path) -> bool:
    return path.name.endswith(SUFFIXES)


def declared_name(path: Path) -> str:
    """The `formula` key of a file, read cheaply; the file name when there is none."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    match = (JSON_NAME_RE.search(text) if path.name.endswith(".json") else NAME_RE.search(text))
    if match:
        return match.groups()[-1]       # the name is each pattern's last group
    name = path.name
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


@dataclass
class Entry:
    name: str
    path: Path
    shadows: list[Path] = field(default_factory=list)   # farther files of the same name


class FormulaLibrary:
    """The formulas visible from a search path, parsed on first use."""

    def __init__(self, search_path: list[Path] | None = None):
        self.search_path = [Path(p) for p in (search_path if search_path is not None else formula_search_path())]
        self._index: dict[str, Entry] | None = None
        self._parsed: dict[Path, Formula] = {}

    def index(self) -> dict[str, Entry]:
        if self._index is None:
            index: dict[str, Entry] = {}
            for folder in self.search_path:
                if not folder.is_dir():
                    continue
                # A file named NAME.formula.toml beats another file declaring NAME in the same folder.
                files = sorted(p for p in folder.iterdir() if is_formula_file(p) and p.is_file())
                local: dict[str, Path] = {}
                for p in files:
                    name = declared_name(p)
                    stem_match = p.name.startswith(name + ".formula.")
                    if name not in local or stem_match:
                        local[name] = p
                for name, p in local.items():
                    if name in index:
                        index[name].shadows.append(p)
                    else:
                        index[name] = Entry(name, p)
            self._index = index
        return self._index

    def names(self) -> list[str]:
        return sorted(self.index())

    def path_of(self, name: str) -> Path:
        entry = self.index().get(name)
        if entry is None:
            raise not_found("formula", name, self.index())
        return entry.path

    def get(self, name: str) -> Formula:
        """The parsed formula called `name` (nearest on the search path)."""
        return self.load_path(self.path_of(name))

    def has(self, name: str) -> bool:
        return name in self.index()

    def load_path(self, path: Path) -> Formula:
        path = Path(path)
        if path not in self._parsed:
            self._parsed[path] = read_formula_file(path)
        return self._parsed[path]
