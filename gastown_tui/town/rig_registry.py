"""The rig registry: `mayor/rigs.json` and the `Rig` it describes (where a rig's
repo, clones, ledger and settings live). Reading only; adding and removing rigs
is `town/rigs.py`, which sits above the agents and ledgers that read this.

Layout of `<town>/<rig>/` (Gas Town's):
  config.json           RigConfig {type: rig, name, git_url, default_branch, beads: {repo, prefix}, created_at}
  settings/config.json  RigSettings (merge_queue target and gate, namepool, workflow)
  .repo.git/            bare clone of the source: the rig's repo; polecats push here
  .beads/               the rig ledger, with its own prefix
  mayor/rig/            the Mayor's full clone (origin = .repo.git); polecat worktrees hang off it
  refinery/rig/         the Refinery's worktree of .repo.git on the target branch
  witness/              the Witness's home (no clone)
  polecats/<name>/<rig>/  polecat worktrees;  crew/<name>/  crew clones
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gastown_tui.errors import UserError, not_found
from gastown_tui.town.jsonfile import read_json
from gastown_tui.town.layout import Town
from gastown_tui.town.settings import RigSettings

RIG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
PREFIX = re.compile(r"^[a-z][a-z0-9]{0,9}$")
# Folders at the top of a town that a rig may not take.
RESERVED = {"mayor", "deacon", "settings", "formulas", "plugins", "directives", "config", "daemon", "events",
            "hq", "boot", "overseer", "witness", "refinery", "polecats", "crew"}


@dataclass(frozen=True)
class Rig:
    name: str
    path: Path
    prefix: str
    git_url: str
    default_branch: str

    @property
    def repo(self) -> Path:
        """The rig's bare repo (polecat branches are pushed here; the Refinery merges here)."""
        return self.path / ".repo.git"

    @property
    def mayor_clone(self) -> Path:
        return self.path / "mayor" / "rig"

    @property
    def refinery_worktree(self) -> Path:
        return self.path / "refinery" / "rig"

    @property
    def witness_dir(self) -> Path:
        return self.path / "witness"

    @property
    def beads_dir(self) -> Path:
        return self.path / ".beads"

    @property
    def polecats_dir(self) -> Path:
        return self.path / "polecats"

    @property
    def crew_dir(self) -> Path:
        return self.path / "crew"

    @property
    def runtime(self) -> Path:
        return self.path / ".runtime"

    @property
    def settings_path(self) -> Path:
        return self.path / "settings" / "config.json"

    @property
    def settings(self) -> RigSettings:
        return RigSettings.load(self.settings_path)

    @property
    def target(self) -> str:
        return self.settings.target

    @property
    def gate(self) -> str:
        return self.settings.gate

    def to_dict(self) -> dict:
        return {"name": self.name, "path": str(self.path), "prefix": self.prefix, "git_url": self.git_url,
                "default_branch": self.default_branch, "repo": str(self.repo),
                "mayor_clone": str(self.mayor_clone), "refinery_worktree": str(self.refinery_worktree),
                "beads_dir": str(self.beads_dir), "target": self.target, "gate": self.gate}


def validate_rig_name(name: str) -> str:
    if not RIG_NAME.match(name or "") or len(name) > 64:
        raise UserError(f"invalid rig name {name!r}: use letters, digits, '-' and '_' (no '/', '..', spaces or dots)")
    if name.lower() in RESERVED:
        raise UserError(f"invalid rig name {name!r}: {name!r} is reserved for the town itself")
    return name


_REGISTRY: dict = {}   # rigs.json path -> (file signature, rigs): re-read only when the file changes


def load_registry(town: Town) -> dict[str, dict]:
    """`mayor/rigs.json`'s rigs: {name: {git_url, added_at, default_branch, beads: {repo, prefix}}} (a copy)."""
    path = town.rigs_json
    try:
        st = path.stat()
        sig = (st.st_mtime_ns, st.st_size, st.st_ino)
    except FileNotFoundError:
        sig = None
    cached = _REGISTRY.get(path)
    if cached is not None and sig is not None and cached[0] == sig:
        return dict(cached[1])
    data = read_json(path, default={"version": 1, "rigs": {}})
    rigs = data.get("rigs") if isinstance(data, dict) else None
    if not isinstance(rigs, dict):
        raise UserError(f"{path}: expected {{\"rigs\": {{...}}}}")
    if sig is not None:
        _REGISTRY[path] = (sig, rigs)
    return dict(rigs)


def _rig_from_entry(town: Town, name: str, entry: dict) -> Rig:
    return Rig(name=name, path=town.rig_dir(name), prefix=entry.get("beads", {}).get("prefix", "").rstrip("-"),
               git_url=entry.get("git_url", ""), default_branch=entry.get("default_branch", "main"))


def list_rigs(town: Town) -> list[Rig]:
    return [_rig_from_entry(town, n, e) for n, e in sorted(load_registry(town).items())]


def get_rig(town: Town, name: str) -> Rig:
    registry = load_registry(town)
    if name not in registry:
        raise not_found("rig", name, registry)
    return _rig_from_entry(town, name, registry[name])
