"""The `--town DIR` option the server commands share (`server`, `run`, `up`, `down`, `status`, `attach`,
`service`): the town DIR names, else GT_TOWN's, else the town around the current folder."""
from __future__ import annotations

from pathlib import Path

from gastown_tui.errors import UserError
from gastown_tui.town.layout import Town, find_town


def town_of(arg: Path | None) -> Town:
    """The town of `--town ARG` (ARG must be the town's own folder), or the one found from here."""
    town = find_town(arg) if arg else find_town()
    if arg and town.root != Path(arg).resolve():
        raise UserError(f"--town {arg}: not a town (no mayor/town.json there)")
    return town
