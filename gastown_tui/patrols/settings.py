"""The patrols' timers and thresholds: `settings/config.json` → `"patrols": {...}`.

Durations are Gas Town strings ("30s", "5m") or seconds. Unknown keys and bad
values are refused with the file and key named.

    "patrols": {
      "backoff_base": "30s", "backoff_max": "5m",     every patrol's idle backoff
      "stalled": "15m", "hung": "30m",                  Witness: nudge / restart a quiet polecat
      "spawn_grace": "1m", "max_restarts": 3,           Witness: leave young sessions alone; then escalate
      "retire_after": "15m",                            Witness: stop an idle session with nothing hooked
      "gupp_idle": "1m",                                GUPP: nudge an idle agent with work on its hook
      "handoff_wait": "2m",                             handoff: longest wait for a busy session to finish its turn
      "boot_interval": "5m",                            Boot's fixed period
      "heartbeat_stale": "10m", "heartbeat_very_stale": "20m",   Boot's thresholds
      "dogs_base": "1m", "dogs_max": "10m", "wisp_ttl": "1h",     dogs
      "feed_per_run": 3,                                Deacon: convoy beads slung per run
      "disabled": []                                    patrol roles not to run (e.g. ["dogs"])
    }
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from gastown_tui.errors import UserError
from gastown_tui.town.jsonfile import read_json
from gastown_tui.town.settings import parse_duration

DURATIONS = ("backoff_base", "backoff_max", "stalled", "hung", "spawn_grace", "retire_after", "gupp_idle",
             "handoff_wait", "boot_interval",
             "heartbeat_stale", "heartbeat_very_stale", "dogs_base", "dogs_max", "wisp_ttl")
COUNTS = ("max_restarts", "feed_per_run")
ROLES = ("deacon", "witness", "refinery", "boot", "dogs", "gupp", "handoff", "budget")


@dataclass
class PatrolSettings:
    backoff_base: float = 30.0
    backoff_max: float = 300.0
    stalled: float = 15 * 60
    hung: float = 30 * 60
    spawn_grace: float = 60.0
    retire_after: float = 15 * 60
    max_restarts: int = 3
    gupp_idle: float = 60.0
    handoff_wait: float = 120.0
    boot_interval: float = 300.0
    heartbeat_stale: float = 600.0
    heartbeat_very_stale: float = 1200.0
    dogs_base: float = 60.0
    dogs_max: float = 600.0
    wisp_ttl: float = 3600.0
    feed_per_run: int = 3
    disabled: list[str] = field(default_factory=list)


def load_patrol_settings(settings_path: Path) -> PatrolSettings:
    """Reads the `patrols` section of a town's settings/config.json (defaults when absent)."""
    path = Path(settings_path)
    raw = read_json(path, default={}) or {}
    section = raw.get("patrols", {}) if isinstance(raw, dict) else {}
    if not isinstance(section, dict):
        raise UserError(f"{path}: \"patrols\" must be an object")
    out = PatrolSettings()
    known = {f.name for f in fields(PatrolSettings)}
    for key, value in section.items():
        where = f"{path}: patrols.{key}"
        if key not in known:
            raise UserError(f"{where}: unknown setting (known: {', '.join(sorted(known))})")
        if key in DURATIONS:
            seconds = parse_duration(value, where=where)
            if seconds <= 0:
                raise UserError(f"{where}: must be more than zero, got {value!r}")
            setattr(out, key, seconds)
        elif key in COUNTS:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise UserError(f"{where}: expected a whole number >= 0, got {value!r}")
            setattr(out, key, value)
        elif key == "disabled":
            if not isinstance(value, list) or any(v not in ROLES for v in value):
                raise UserError(f"{where}: expected a list of patrol roles from {', '.join(ROLES)}, got {value!r}")
            out.disabled = list(value)
    if out.backoff_max < out.backoff_base:
        raise UserError(f"{path}: patrols.backoff_max ({out.backoff_max:g}s) is below backoff_base "
                        f"({out.backoff_base:g}s)")
    return out
