"""Polecat names: a themed pool, handed out in order, reused only once free.

A name is taken while `<rig>/polecats/<name>/` exists; the folder stays until
the polecat is removed (`polecat remove`, which without --force requires its
work to have landed) or reaped by the Witness once its work is on the target
(`polecats.reap_polecat`). Allocation happens under a lock and reserves the folder.
"""
from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from gastown_tui.filelock import file_lock
from gastown_tui.errors import UserError

MAD_MAX = (
    "furiosa", "nux", "slit", "rictus", "toast", "capable", "dag", "cheedo", "angharad", "valkyrie",
    "ace", "morsov", "corpus", "dementus", "doof", "coma", "keeper", "glory", "scrotus", "praetorian",
    "jack", "rizzdale", "scabrous", "bullet", "farmer", "organic", "hoppy", "buzzard", "gutgash", "octoboss",
    "mechanic", "vuvalini", "chrome", "piston", "sprocket", "nitro", "turbo", "dune", "rust", "ember",
    "cinder", "ash", "blaze", "gears", "axle", "clutch", "flint", "grease", "torque", "diesel",
)
MINERALS = ("quartz", "feldspar", "mica", "garnet", "beryl", "topaz", "jasper", "opal", "onyx", "pyrite",
            "galena", "malachite", "azurite", "calcite", "fluorite", "gypsum", "halite", "talc", "zircon", "agate")
STYLES = {"mad-max": MAD_MAX, "minerals": MINERALS}


def pool(style: str = "mad-max", names: list[str] | None = None) -> tuple[str, ...]:
    return tuple(names) if names else STYLES.get(style, MAD_MAX)


def allocate(polecats_dir: Path, style: str = "mad-max", names: list[str] | None = None,
             wanted: str | None = None, busy: Collection[str] = frozenset()) -> str:
    """Reserves and returns a free name (creates its folder). WANTED picks a specific one if free.

    BUSY names are taken too even without a folder (their agent still holds unfinished work)."""
    polecats_dir = Path(polecats_dir)
    polecats_dir.mkdir(parents=True, exist_ok=True)
    with file_lock(polecats_dir.parent / ".runtime" / "namepool.lock", what="name pool lock"):
        if wanted:
            if (polecats_dir / wanted).exists() or wanted in busy:
                raise UserError(f"polecat name {wanted!r} is taken in {polecats_dir.parent.name}")
            (polecats_dir / wanted).mkdir()
            return wanted
        candidates = list(pool(style, names))
        for name in candidates:
            if not (polecats_dir / name).exists() and name not in busy:
                (polecats_dir / name).mkdir()
                return name
        n = 1
        while (polecats_dir / f"polecat-{n:02d}").exists() or f"polecat-{n:02d}" in busy:
            n += 1
        name = f"polecat-{n:02d}"
        (polecats_dir / name).mkdir()
        return name
