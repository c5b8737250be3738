"""Rigs: one git project in the town.

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
import shutil
from dataclasses import dataclass
from pathlib import Path

from gastown_tui.errors import UserError, not_found
from gastown_tui.town.jsonfile import read_json, write_json
from gastown_tui.town.layout import Town
from gastown_tui.filelock import file_lock
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


def derive_prefix(name: str, taken: set[str]) -> str:
    """A short lowercase prefix from the rig name: initials of its parts, else its first letters."""
    parts = [p for p in re.split(r"[-_]+", name.lower()) if p]
    letters = re.sub(r"[^a-z0-9]", "", name.lower())
    if not letters or not letters[0].isalpha():
        letters = "r" + letters
    base = "".join(p[0] for p in parts) if len(parts) > 1 else letters[:2]
    if not base[0].isalpha():
        base = "r" + base
    candidates = [base] + [letters[:n] for n in range(3, min(len(letters), 10) + 1)]
    for cand in candidates:
        if PREFIX.match(cand) and cand not in taken:
            return cand
    n = 2
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


def add_rig(town: Town, name: str, source: str, prefix: str | None = None, gate: str | None = None,
            actor: str = "overseer") -> Rig:
    """Clones SOURCE into a new rig NAME: bare repo, mayor clone, refinery worktree, ledger, agents."""
    from gastown_tui import vcs
    from gastown_tui.beads import Ledger
    from gastown_tui.beads.timestamps import now
    from gastown_tui.town.agents import ensure_agent_bead
    from gastown_tui.town.events import append_event

    validate_rig_name(name)
    with file_lock(town.locks_dir() / "rigs.lock", what="rig registry lock"):
        registry = load_registry(town)
        if name in registry:
            raise UserError(f"rig {name!r} already exists")
        rig_path = town.rig_dir(name)
        if rig_path.exists():
            raise UserError(f"cannot add rig {name!r}: {rig_path} already exists and is not a rig")
        taken = {"hq"} | {e.get("beads", {}).get("prefix", "").rstrip("-") for e in registry.values()}
        if prefix is not None:
            prefix = prefix.rstrip("-")
            if not PREFIX.match(prefix):
                raise UserError(f"invalid prefix {prefix!r}: use 1-10 lowercase letters/digits starting with a letter")
            if prefix in taken:
                raise UserError(f"prefix {prefix!r} is already used by {'the town' if prefix == 'hq' else 'another rig'}")
        else:
            prefix = derive_prefix(name, taken)
        rig_path.mkdir(parents=True)
        try:
            bare = vcs.clone_bare(source, rig_path / ".repo.git")
            branch = vcs.default_branch(bare)
            if vcs.rev_parse(bare, f"refs/heads/{branch}") is None:
                raise UserError(f"cannot add rig {name!r}: {source} has no commits on {branch}")
            vcs.clone(bare, rig_path / "mayor" / "rig")
            vcs.add_worktree(bare, rig_path / "refinery" / "rig", branch=branch, new_branch=False)
            for sub in ("polecats", "crew", "witness", ".runtime", "settings"):
                (rig_path / sub).mkdir(exist_ok=True)
            (rig_path / ".gitignore").write_text(".repo.git/\n.beads/\n.runtime/\nmayor/\nrefinery/\npolecats/\ncrew/\n")
            Ledger.init(rig_path / ".beads", prefix)
            source_str = str(Path(source).resolve()) if Path(source).exists() else source
            created = now()
            settings = RigSettings.load(rig_path / "settings" / "config.json")
            settings.data["merge_queue"]["target"] = branch
            if gate is not None:
                settings.data["merge_queue"]["gate"] = gate
            settings.save()
            write_json(rig_path / "config.json", {
                "type": "rig", "version": 1, "name": name, "git_url": source_str, "default_branch": branch,
                "created_at": created, "beads": {"repo": ".beads", "prefix": f"{prefix}-"},
            })
            rig = Rig(name, rig_path, prefix, source_str, branch)
            for role in ("witness", "refinery"):
                ensure_agent_bead(town, f"{name}/{role}", rig=rig)
            registry[name] = {"git_url": source_str, "added_at": created, "default_branch": branch,
                              "beads": {"repo": f"{name}/.beads", "prefix": f"{prefix}-"}}
            write_json(town.rigs_json, {"version": 1, "rigs": registry})
            _write_routes(town, registry)
        except BaseException:
            shutil.rmtree(rig_path, ignore_errors=True)
            raise
    append_event(town.events_path, "rig_added", actor, rig=name, prefix=prefix, source=source_str, target=branch)
    return rig


def _write_routes(town: Town, registry: dict) -> None:
    import json

    from gastown_tui.atomicfile import write_atomic

    lines = [json.dumps({"prefix": "hq-", "path": "."})]
    for name, entry in sorted(registry.items()):
        lines.append(json.dumps({"prefix": entry["beads"]["prefix"], "path": name}))
    write_atomic(town.beads_dir / "routes.jsonl", "\n".join(lines) + "\n")


def remove_rig(town: Town, name: str, force: bool = False, actor: str = "overseer") -> list[str]:
    """Removes a rig. Refuses while it has polecats or crew (unless force); returns what was removed."""
    from gastown_tui.town.events import append_event

    rig = get_rig(town, name)
    workers = sorted(p.name for p in rig.polecats_dir.iterdir() if p.is_dir()) if rig.polecats_dir.is_dir() else []
    crew = sorted(p.name for p in rig.crew_dir.iterdir() if p.is_dir()) if rig.crew_dir.is_dir() else []
    if (workers or crew) and not force:
        parts = []
        if workers:
            parts.append(f"polecats {', '.join(workers)}")
        if crew:
            parts.append(f"crew {', '.join(crew)}")
        raise UserError(f"rig {name!r} still has {' and '.join(parts)}; their unmerged work and its ledger "
                        f"({rig.beads_dir}) would be lost (use --force)")
    with file_lock(town.locks_dir() / "rigs.lock", what="rig registry lock"):
        registry = load_registry(town)
        registry.pop(name, None)
        write_json(town.rigs_json, {"version": 1, "rigs": registry})
        _write_routes(town, registry)
    shutil.rmtree(rig.path, ignore_errors=True)
    append_event(town.events_path, "rig_removed", actor, rig=name, forced=force)
    return [str(rig.path)]
