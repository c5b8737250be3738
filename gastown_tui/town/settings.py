"""Town settings (`settings/config.json`) and rig settings (`<rig>/settings/config.json`).

Timers are Gas Town duration strings ("30s", "5m", "2h"); `timer(name)` gives
seconds. Agent presets are named per role (the sessions layer defines what a
preset name means); `agent_for(address)` resolves crew > rig > role > default.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Self

from gastown_tui.errors import UserError
from gastown_tui.town.jsonfile import read_json, write_json

PRESET_NAMES = ("claude", "codex", "gemini", "aider", "opencode", "amp", "shell", "sim")
ROLES = ("mayor", "deacon", "boot", "witness", "refinery", "polecat", "crew")

# Defaults from Gas Town's Appendix B where it names them.
DEFAULT_TIMERS = {
    "deacon_patrol": "5m",
    "witness_patrol": "5m",
    "refinery_poll": "30s",
    "boot_spawn_cooldown": "2m",
    "deacon_heartbeat_stale": "5m",
    "deacon_heartbeat_very_stale": "20m",
    "gupp_violation": "30m",
    "hung_session": "30m",
    "worker_stale": "5m",
    "worker_stuck": "30m",
    "polecat_heartbeat_stale": "3m",
    "polecat_idle_session": "15m",
    "witness_spawn_grace": "5m",
    "handoff_cooldown": "2m",
    "nudge_ttl_normal": "30m",
    "nudge_ttl_urgent": "2h",
    "mail_reply_reminder": "30s",
    "convoy_poll": "5s",
    "convoy_grace": "5m",
    "escalation_stale": "4h",
    "backoff_base": "30s",
    "backoff_max": "15m",
    "node_grace": "10m",  # a node's link down this long: its polecats are marked dead (docs/nodes.md)
}

DEFAULT_TOWN_SETTINGS = {
    "type": "town-settings",
    "version": 1,
    "default_agent": "sim",
    "role_agents": {role: "sim" for role in ROLES},
    "crew_agents": {},
    "agents": {},
    "timers": DEFAULT_TIMERS,
    "theme": "gastown-dark",
    "cli_theme": "auto",
    "themes": {},
    "max_polecats": 10,
}

DEFAULT_RIG_SETTINGS = {
    "type": "rig-settings",
    "version": 1,
    "merge_queue": {
        "enabled": True,
        "target": "main",
        "gate": "",
        "run_tests": True,
        "on_conflict": "assign_back",
        "delete_merged_branches": True,
    },
    "namepool": {"style": "mad-max", "names": []},
    "workflow": {"default_formula": "polecat-work"},
    "role_agents": {},
    "worker_agents": {},
    "max_polecats": 10,
}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(text: str | int | float, where: str = "duration") -> float:
    """Seconds in "30s", "5m", "2h", "1.5d", "250ms" or a bare number of seconds."""
    if isinstance(text, (int, float)):
        return float(text)
    m = _DURATION.match(str(text))
    if not m:
        raise UserError(f"{where}: not a duration: {text!r} (use e.g. 30s, 5m, 2h)")
    return float(m.group(1)) * _UNIT[m.group(2)]


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


class _JsonSettings:
    """A settings file: a JSON object merged over DEFAULTS, checked by `check`, saved whole."""

    DEFAULTS: dict = {}

    def __init__(self, path: Path, data: dict):
        self.path = path
        self.data = data

    @classmethod
    def load(cls, path: Path) -> Self:
        raw = read_json(path, default={})
        if not isinstance(raw, dict):
            raise UserError(f"{path}: expected a JSON object")
        cls.check(path, raw)
        return cls(path, _merge(cls.DEFAULTS, raw))

    @classmethod
    def check(cls, path: Path, raw: dict) -> None:
        """Refuses a bad value with a UserError naming the file and key (the raw file's, before merging)."""

    def save(self) -> None:
        write_json(self.path, self.data)


class TownSettings(_JsonSettings):
    """`settings/config.json` merged over the defaults."""

    DEFAULTS = DEFAULT_TOWN_SETTINGS

    @classmethod
    def check(cls, path: Path, raw: dict) -> None:
        data = _merge(DEFAULT_TOWN_SETTINGS, raw)
        for name, value in data.get("timers", {}).items():
            parse_duration(value, where=f"{path}: timers.{name}")

    def timer(self, name: str) -> float:
        """A timer in seconds; UserError naming the key when unknown."""
        timers = self.data.get("timers", {})
        if name not in timers:
            raise UserError(f"{self.path}: unknown timer {name!r} (known: {', '.join(sorted(timers))})")
        return parse_duration(timers[name], where=f"{self.path}: timers.{name}")

    @property
    def theme(self) -> str:
        return self.data.get("theme", "gastown-dark")

    def agent_for(self, role: str, rig_settings: "RigSettings | None" = None, name: str | None = None) -> str:
        """The preset name for an agent: crew/worker override > rig role > town role > default."""
        if rig_settings is not None:
            worker = rig_settings.data.get("worker_agents", {})
            if name and name in worker:
                return worker[name]
            rig_roles = rig_settings.data.get("role_agents", {})
            if role in rig_roles:
                return rig_roles[role]
        if role == "crew" and name and name in self.data.get("crew_agents", {}):
            return self.data["crew_agents"][name]
        return self.data.get("role_agents", {}).get(role) or self.data.get("default_agent", "sim")


class RigSettings(_JsonSettings):
    """`<rig>/settings/config.json` merged over the defaults."""

    DEFAULTS = DEFAULT_RIG_SETTINGS

    @classmethod
    def check(cls, path: Path, raw: dict) -> None:
        if not isinstance(raw.get("merge_queue", {}), dict):
            raise UserError(f"{path}: merge_queue must be an object")

    @property
    def target(self) -> str:
        return self.data["merge_queue"].get("target") or "main"

    @property
    def gate(self) -> str:
        """The shell command the Refinery runs on a rebased branch ("" = no gate)."""
        return self.data["merge_queue"].get("gate") or ""

    @property
    def default_formula(self) -> str:
        return self.data.get("workflow", {}).get("default_formula") or "polecat-work"
