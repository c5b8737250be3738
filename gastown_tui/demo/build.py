"""Builds the demo town: the sample project as rig `textkit`, five beads in one convoy, the first ones slung.

    demo = build_demo_town(Path("/tmp/demo"), polecats=3)
    demo.town, demo.rig, demo.convoy, demo.beads  # {key: bead id}

Layout under DIR: `project/` (the sample project's own repository, the rig's
source), `town/` (the Gas Town). The polecats are simulated agents (preset
`sim`); the patrols' timers are short so the whole thing lands in well under a
minute. `demo.json` in DIR records the ids for tests and for a later
`gastown demo --dir DIR` run to continue.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from gastown_tui.demo.beads import ALL, FIRST
from gastown_tui.demo.sample import gate_command, write_sample_project
from gastown_tui.errors import UserError

RIG = "textkit"

# Short timers: the demo is meant to be watched.
DEMO_PATROLS = {
    "backoff_base": "1s", "backoff_max": "5s", "gupp_idle": "3s", "stalled": "40s", "hung": "80s",
    "spawn_grace": "10s", "boot_interval": "30s", "heartbeat_stale": "20s", "heartbeat_very_stale": "60s",
    "dogs_base": "5s", "dogs_max": "20s", "feed_per_run": 3,
}


@dataclass
class DemoTown:
    root: Path
    town: object  # gastown_tui.town.layout.Town
    rig: object  # gastown_tui.town.rigs.Rig
    convoy: str
    beads: dict[str, str] = field(default_factory=dict)  # demo key -> bead id
    polecats: int = 3

    def to_dict(self) -> dict:
        return {"town": str(self.town.root), "rig": self.rig.name, "convoy": self.convoy, "beads": self.beads,
                "polecats": self.polecats}


def load_demo(root: Path) -> DemoTown:
    """A demo town built earlier in ROOT (reads ROOT/demo.json)."""
    from gastown_tui.town.layout import Town
    from gastown_tui.town.rigs import get_rig

    path = Path(root) / "demo.json"
    try:
        data = json.loads(path.read_text())
        town = Town(Path(data["town"]))
        return DemoTown(Path(root), town, get_rig(town, data["rig"]), data["convoy"], data["beads"],
                        int(data.get("polecats", 3)))
    except FileNotFoundError:
        raise UserError(f"{path}: not found ({root} holds no demo town)") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path}: not a demo record ({exc})") from None


def _settings(town, polecats: int, patrols: dict, pace: float = 0.0) -> None:
    from gastown_tui.town.jsonfile import read_json, write_json

    path = town.settings_path
    data = read_json(path, default={}) or {}
    data.setdefault("role_agents", {})["polecat"] = "sim"
    if pace > 0:   # simulated agents pause between actions so a person can watch them
        sim = data.setdefault("agents", {}).setdefault("sim", {})
        sim.setdefault("env", {})["GT_SIM_PACE"] = f"{pace:g}"
    data["patrols"] = {**data.get("patrols", {}), **patrols}
    write_json(path, data)


def build_demo_town(root: Path, polecats: int = 3, patrols: dict | None = None, pace: float = 0.0) -> DemoTown:
    """Creates DIR/project and DIR/town, files the beads and the convoy, slings the first beads."""
    from gastown_tui.town.convoys import create_convoy
    from gastown_tui.town.install import install_town
    from gastown_tui.town.ledgers import open_ledger
    from gastown_tui.town.rigs import add_rig, get_rig
    from gastown_tui.town.settings import RigSettings
    from gastown_tui.town.sling import sling

    if polecats < 1:
        raise UserError(f"--polecats must be at least 1, got {polecats}")
    if pace < 0:
        raise UserError(f"--pace must be zero or more seconds, got {pace:g}")
    root = Path(root).resolve()
    if root.exists() and any(root.iterdir()):
        raise UserError(f"{root} is not empty: give --dir a new or empty folder (or omit it)")
    root.mkdir(parents=True, exist_ok=True)
    project = write_sample_project(root / "project")
    town = install_town(root / "town", name="demo")
    _settings(town, polecats, {**DEMO_PATROLS, **(patrols or {})}, pace)
    rig = add_rig(town, RIG, str(project), gate=gate_command())
    rs = RigSettings.load(rig.settings_path)
    rs.data["max_polecats"] = polecats
    rs.save()
    rig = get_rig(town, RIG)
    ledger = open_ledger(rig.beads_dir)
    ids = {}
    for b in ALL:
        ids[b.key] = ledger.create(b.title, description=b.description, priority=b.priority, actor="overseer",
                                   labels=["demo"]).id
    convoy = create_convoy(town, "Demo: textkit features", list(ids.values()), owner="overseer")
    for key in FIRST[:polecats]:
        sling(town, ids[key], RIG, actor="overseer")
    demo = DemoTown(root, town, rig, convoy, ids, polecats)
    tmp = root / ".demo.json.tmp"
    tmp.write_text(json.dumps(demo.to_dict(), indent=2) + "\n")
    tmp.replace(root / "demo.json")
    return demo
