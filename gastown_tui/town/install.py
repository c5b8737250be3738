"""`gastown install DIR`: create a town on disk."""
from __future__ import annotations

import getpass
import shutil
from pathlib import Path

from gastown_tui.errors import UserError
from gastown_tui.atomicfile import write_atomic
from gastown_tui.town.jsonfile import write_json
from gastown_tui.town.layout import MARKER, Town, is_town
from gastown_tui.town.settings import DEFAULT_TOWN_SETTINGS
from gastown_tui.beads import Ledger
from gastown_tui.timestamps import now
from gastown_tui.town.agents import ensure_agent_bead
from gastown_tui.town.events import append_event
from gastown_tui.town.shims import write_shims

GITIGNORE = ".runtime/\n.beads/wisps/\n*/.repo.git/\n*/.runtime/\n*/polecats/\n*/crew/\n*/refinery/\n*/mayor/\n"
CLAUDE_MD = """# Gas Town workspace

This folder is a Gas Town (gastown). Who you are and what to do next come from
`gt prime`, run in your own working folder; do not take an identity from files here.
"""


def install_town(path: Path, name: str | None = None, owner: str | None = None) -> Town:
    """Creates a town at PATH (which may exist but must not already be a town)."""
    root = Path(path).expanduser().resolve()
    if is_town(root):
        raise UserError(f"{root} is already a town ({MARKER} exists)")
    if root.exists() and not root.is_dir():
        raise UserError(f"cannot install a town at {root}: it is a file")
    for parent in root.parents:
        if is_town(parent):
            raise UserError(f"cannot install a town at {root}: it is inside the town at {parent}")
    existed = root.exists()
    before = set(root.iterdir()) if existed else set()
    root.mkdir(parents=True, exist_ok=True)
    town = Town(root)
    try:
        for sub in ("mayor", "deacon", "deacon/dogs/boot", "settings", "formulas", ".runtime", ".runtime/locks"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        Ledger.init(town.beads_dir, "hq")
        write_atomic(town.beads_dir / "routes.jsonl", '{"prefix": "hq-", "path": "."}\n')
        write_json(town.settings_path, DEFAULT_TOWN_SETTINGS)
        write_json(town.rigs_json, {"version": 1, "rigs": {}})
        town.events_path.touch()
        gi = root / ".gitignore"
        if not gi.exists():
            write_atomic(gi, GITIGNORE)
        if not (root / "CLAUDE.md").exists():
            write_atomic(root / "CLAUDE.md", CLAUDE_MD)

        write_shims(town.shims_dir)            # gt and bd for every agent's PATH
        for addr in ("mayor/", "deacon/", "boot"):
            ensure_agent_bead(town, addr)
        try:
            user = owner or getpass.getuser()
        except (KeyError, OSError):     # no login name (e.g. a container's uid with no passwd entry)
            user = owner or "overseer"
        # town.json last: it is what makes the folder a town.
        write_json(town.town_json, {"type": "town", "version": 2, "name": name or root.name, "owner": user,
                                    "created_at": now()})
    except BaseException:
        if existed:
            for p in set(root.iterdir()) - before:
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        else:
            shutil.rmtree(root, ignore_errors=True)
        raise
    append_event(town.events_path, "town_installed", "overseer", root=str(root), name=name or root.name)
    return town
