"""Rigs: adding one git project to the town (`add_rig`) and removing it.

The registry they change (`mayor/rigs.json`, the `Rig` paths) is read through
`town/rig_registry.py`; its names are re-exported here, so `town.rigs` stays the
one place callers above the town layer import rigs from. Modules that `add_rig`
itself uses (agents, ledgers) import the registry directly: that keeps the
graph acyclic.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from gastown_tui.errors import UserError
from gastown_tui.town.jsonfile import write_json
from gastown_tui.filelock import file_lock
from gastown_tui.town.layout import Town
from gastown_tui.town.rig_registry import (  # re-exported (`X as X`): the public face of rigs
    PREFIX as PREFIX,
    RESERVED as RESERVED,
    RIG_NAME as RIG_NAME,
    Rig as Rig,
    get_rig as get_rig,
    list_rigs as list_rigs,
    load_registry as load_registry,
    validate_rig_name as validate_rig_name,
)
from gastown_tui.town.settings import RigSettings
from gastown_tui import vcs
from gastown_tui.atomicfile import write_atomic
from gastown_tui.beads import Ledger
from gastown_tui.timestamps import now
from gastown_tui.town.agents import ensure_agent_bead
from gastown_tui.town.events import append_event

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


    lines = [json.dumps({"prefix": "hq-", "path": "."})]
    for name, entry in sorted(registry.items()):
        lines.append(json.dumps({"prefix": entry["beads"]["prefix"], "path": name}))
    write_atomic(town.beads_dir / "routes.jsonl", "\n".join(lines) + "\n")


def remove_rig(town: Town, name: str, force: bool = False, actor: str = "overseer") -> list[str]:
    """Removes a rig. Refuses while it has polecats or crew (unless force); returns what was removed."""
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
