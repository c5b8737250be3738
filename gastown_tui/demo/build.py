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

from gastown_tui.beads.ids import generate
from gastown_tui.demo.beads import ALL, FIRST
from gastown_tui.demo.sample import gate_command, write_sample_project
from gastown_tui.errors import UserError
from gastown_tui.town.install import install_town
from gastown_tui.town.jsonfile import read_json, write_json
from gastown_tui.town.layout import Town
from gastown_tui.town.ledgers import town_ledger
from gastown_tui.town.rigs import add_rig, get_rig
from gastown_tui.town.settings import RigSettings
from gastown_tui.town.sling import sling

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
    path = town.settings_path
    data = read_json(path, default={}) or {}
    data.setdefault("role_agents", {})["polecat"] = "sim"
    data["role_agents"]["mayor"] = "sim"
    if pace > 0:   # simulated agents pause between actions so a person can watch them
        sim = data.setdefault("agents", {}).setdefault("sim", {})
        sim.setdefault("env", {})["GT_SIM_PACE"] = f"{pace:g}"
        sim["env"]["GT_SIM_MAYOR_PACE"] = f"{min(pace, 1.0):g}"   # the Mayor files and slings briskly
    data["patrols"] = {**data.get("patrols", {}), **patrols}
    write_json(path, data)


PLAN_TITLE = "Plan: textkit features (from the Overseer)"
CONVOY_TITLE = "Demo: textkit features"


def _plan_for_the_mayor(town, rig, polecats: int) -> tuple[dict[str, str], str]:
    """The Overseer's plan, slung to the Mayor: file the five beads in the rig, track them in a convoy,
    sling the first ones. The simulated Mayor runs the plan's `sim: run` lines — the same `bd create`,
    `gt convoy create` and `gt sling` a real Mayor would type. Ids are chosen here so demo.json (and
    `--until-landed`) know the convoy before the Mayor has filed it. Returns ({key: bead id}, convoy id)."""
    import secrets
    import shlex


    def _new(_candidate: str) -> bool:     # both ledgers are empty of these: any id is free
        return False

    plan_dir = town.root / "mayor" / "plan"
    plan_dir.mkdir(parents=True, exist_ok=True)
    ids = {}
    lines = [
        "The Overseer wants these textkit features built. File each as a bead in rig "
        f"{rig.name} (its description is in plan/<key>.md in your folder), track them in one convoy, "
        f"and sling the first {polecats} to the rig; the Deacon feeds the rest as polecats free up.",
        "",
    ]
    for b in ALL:
        bead_id = generate(rig.prefix, b.title, b.description, "mayor", secrets.randbits(60), _new, 0)
        ids[b.key] = bead_id
        (plan_dir / f"{b.key}.md").write_text(b.description, encoding="utf-8")
        lines.append(f"sim: run bd create {shlex.quote(b.title)} --rig {rig.name} --id {bead_id} "
                     f"-p {b.priority} -l demo -d \"$(cat plan/{b.key}.md)\"")
    # Sling first, then track them all in the convoy: once a convoy exists the Deacon feeds its ready
    # beads to the rig, and the Mayor's own slings would find them taken.
    for key in FIRST[:polecats]:
        lines.append(f"sim: run gt sling {ids[key]} {rig.name} --no-convoy")
    convoy = generate("hq-cv", CONVOY_TITLE, "", "mayor", secrets.randbits(60), _new, 0)
    lines.append(f"sim: run gt convoy create {shlex.quote(CONVOY_TITLE)} {' '.join(ids.values())} --id {convoy}")
    plan = town_ledger(town).create(PLAN_TITLE, description="\n".join(lines) + "\n", actor="overseer",
                                    labels=["demo", "plan"])
    sling(town, plan.id, "mayor", actor="overseer", no_convoy=True)
    return ids, convoy


def build_demo_town(root: Path, polecats: int = 3, patrols: dict | None = None, pace: float = 0.0) -> DemoTown:
    """Creates DIR/project and DIR/town and slings the Overseer's plan to the Mayor, who files the beads
    and the convoy and slings the first beads once the factory runs."""
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
    ids, convoy = _plan_for_the_mayor(town, rig, polecats)
    demo = DemoTown(root, town, rig, convoy, ids, polecats)
    tmp = root / ".demo.json.tmp"
    tmp.write_text(json.dumps(demo.to_dict(), indent=2) + "\n")
    tmp.replace(root / "demo.json")
    return demo
