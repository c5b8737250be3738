"""Where a town is and where everything lives inside it.

A town is a folder whose `mayor/town.json` marks the root. It is found from
`GT_TOWN` or by walking up from the current directory.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gastown_tui.errors import UserError

MARKER = Path("mayor") / "town.json"


class NoTown(UserError):
    pass


@dataclass(frozen=True)
class Town:
    """A town on disk. All paths are absolute."""

    root: Path

    @property
    def mayor_dir(self) -> Path:
        return self.root / "mayor"

    @property
    def town_json(self) -> Path:
        return self.root / MARKER

    @property
    def rigs_json(self) -> Path:
        return self.root / "mayor" / "rigs.json"

    @property
    def settings_path(self) -> Path:
        return self.root / "settings" / "config.json"

    @property
    def beads_dir(self) -> Path:
        return self.root / ".beads"

    @property
    def events_path(self) -> Path:
        return self.root / ".events.jsonl"

    @property
    def runtime(self) -> Path:
        return self.root / ".runtime"

    @property
    def formulas_dir(self) -> Path:
        return self.root / "formulas"

    @property
    def shims_dir(self) -> Path:
        return self.runtime / "shims"

    def rig_dir(self, rig: str) -> Path:
        return self.root / rig

    def nudge_dir(self, agent_key: str) -> Path:
        return self.runtime / "nudge_queue" / agent_key

    def sessions_dir(self, agent_key: str) -> Path:
        return self.runtime / "sessions" / agent_key

    def home_dir(self, agent_key: str) -> Path:
        return self.runtime / "homes" / agent_key

    def locks_dir(self) -> Path:
        return self.runtime / "locks"


def is_town(path: Path) -> bool:
    return (Path(path) / MARKER).is_file()


def find_town(start: Path | None = None, env: Mapping[str, str] | None = None) -> Town:
    """The town named by GT_TOWN, else the nearest folder at or above START (default cwd) holding mayor/town.json."""
    env = os.environ if env is None else env
    named = env.get("GT_TOWN")
    if named:
        root = Path(named).expanduser().resolve()
        if not is_town(root):
            raise NoTown(f"GT_TOWN={named} is not a town (no {MARKER} there)")
        return Town(root)
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            return Town(folder)
    raise NoTown(f"not inside a town: no {MARKER} in {here} or above (run `gastown install DIR` or set GT_TOWN)")
