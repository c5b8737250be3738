"""The town's settings by dotted key (`gastown config get|set|unset|list`), checked before they are written.

Keys are paths into `settings/config.json` (see town/settings.py for the defaults):

- `default_agent`, `role_agents.<role>`, `crew_agents.<name>`: a preset name (`gastown agents` lists them);
- `agents.<preset>.path`: the program to run for that preset (an executable file);
- `agents.<preset>.base_url`: the model endpoint the CLI is pointed at (http or https);
- `agents.<preset>.<field>`: any other preset field, as JSON (`argv`, `env`, `rules`, ...), checked by
  loading the presets with it;
- `timers.<name>`: a duration (30s, 5m, 2h); `max_polecats`: a whole number >= 1; `theme`, `cli_theme`.

Errors name the key and say what is expected. A write is atomic and checked as a whole first: nothing
is written when the result would not load.
"""
from __future__ import annotations

import copy
import json
import os

from gastown_tui.errors import UserError
from gastown_tui.sessions.presets import PresetError, load_presets
from gastown_tui.town.jsonfile import read_json, write_json
from gastown_tui.town.layout import Town
from gastown_tui.town.settings import DEFAULT_TIMERS, DEFAULT_TOWN_SETTINGS, ROLES, TownSettings, parse_duration


class ConfigError(UserError):
    """A setting that cannot be read or written; the message names the key."""


def _raw(town: Town) -> dict:
    raw = read_json(town.settings_path, default={})
    if not isinstance(raw, dict):
        raise ConfigError(f"{town.settings_path}: expected a JSON object")
    return raw


def _known_top() -> list[str]:
    return sorted(k for k in DEFAULT_TOWN_SETTINGS if k not in ("type", "version"))


def _split(key: str) -> list[str]:
    parts = key.split(".")
    if not key or any(not p for p in parts):
        raise ConfigError(f"bad setting name {key!r} (use dotted names like role_agents.polecat)")
    if parts[0] not in _known_top() and parts[0] != "app":
        raise ConfigError(f"unknown setting {key!r} (known: {', '.join(_known_top())})")
    return parts


def _presets(town: Town, raw: dict | None = None) -> dict:
    if raw is None:
        return load_presets(town.root)
    # Check the would-be settings: load the presets from a copy of the file's content.
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "settings").mkdir()
        (Path(tmp) / "settings" / "config.json").write_text(json.dumps(raw))
        try:
            return load_presets(Path(tmp))
        except PresetError as exc:
            raise ConfigError(str(exc).replace(str(Path(tmp) / "settings" / "config.json"),
                                               str(town.settings_path))) from None


def _parse_value(parts: list[str], text: str, town: Town) -> object:
    """The value to store for KEY given on the command line as TEXT, or ConfigError naming KEY."""
    key = ".".join(parts)
    top = parts[0]
    if top in ("default_agent", "role_agents", "crew_agents"):
        if top == "role_agents" and (len(parts) != 2 or parts[1] not in ROLES):
            raise ConfigError(f"unknown setting {key!r}: role_agents.<role> with a role among {', '.join(ROLES)}")
        if top == "crew_agents" and len(parts) != 2:
            raise ConfigError(f"bad setting {key!r}: crew_agents.<crew name>")
        if top == "default_agent" and len(parts) != 1:
            raise ConfigError(f"bad setting {key!r}: default_agent takes a preset name")
        names = sorted(_presets(town))
        if text not in names:
            raise ConfigError(f"{key}: unknown agent preset {text!r} (known: {', '.join(names)}; see `gastown agents`)")
        return text
    if top == "agents":
        if len(parts) != 3:
            raise ConfigError(f"bad setting {key!r}: agents.<preset>.<field>, e.g. agents.claude.path")
        field = parts[2]
        if field == "path":
            path = os.path.expanduser(text)
            if not os.path.isabs(path):
                raise ConfigError(f"{key}: give the program's full path, got {text!r}")
            if not (os.path.isfile(path) and os.access(path, os.X_OK)):
                raise ConfigError(f"{key}: {path} is not an executable file")
            return path
        if field == "base_url":
            if not text.startswith(("http://", "https://")):
                raise ConfigError(f"{key}: must be an http(s) URL, got {text!r}")
            return text.rstrip("/")
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            if field in ("description", "beacon", "submit_key", "verified"):
                return text
            raise ConfigError(f"{key}: give a JSON value (e.g. '[\"claude\", \"--flag\"]'), got {text!r}") from None
    if top == "timers":
        if len(parts) != 2:
            raise ConfigError(f"bad setting {key!r}: timers.<name>")
        if parts[1] not in DEFAULT_TIMERS:
            raise ConfigError(f"unknown setting {key!r} (known timers: {', '.join(sorted(DEFAULT_TIMERS))})")
        try:
            parse_duration(text, where=key)
        except UserError as exc:
            raise ConfigError(str(exc)) from None
        return text
    if top == "max_polecats":
        if len(parts) != 1 or not text.isdigit() or int(text) < 1:
            raise ConfigError(f"{key}: a whole number of at least 1, got {text!r}")
        return int(text)
    if len(parts) == 1 and isinstance(DEFAULT_TOWN_SETTINGS.get(top), str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise ConfigError(f"{key}: give a JSON value, got {text!r}") from None


def get(town: Town, key: str) -> object:
    """The effective value of KEY (the file's, else the default); ConfigError when it is not set anywhere."""
    parts = _split(key)
    node = TownSettings.load(town.settings_path).data
    for i, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(f"{key}: not set (nothing at {'.'.join(parts[:i + 1])})")
        node = node[part]
    return node


def set_value(town: Town, key: str, text: str) -> object:
    """Checks and stores KEY = TEXT; returns the stored value."""
    parts = _split(key)
    value = _parse_value(parts, text, town)
    raw = copy.deepcopy(_raw(town))
    node = raw
    for part in parts[:-1]:
        nxt = node.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise ConfigError(f"{key}: {'.'.join(parts[:parts.index(part) + 1])} is not an object in {town.settings_path}")
        node = nxt
    node[parts[-1]] = value
    _check(town, raw)
    write_json(town.settings_path, raw)
    return value


def unset(town: Town, key: str) -> bool:
    """Removes KEY from the file (the default applies again); False when it was not set there."""
    parts = _split(key)
    raw = copy.deepcopy(_raw(town))
    node = raw
    for part in parts[:-1]:
        inner = node.get(part)
        if not isinstance(inner, dict):
            return False
        node = inner
    if parts[-1] not in node:
        return False
    del node[parts[-1]]
    _check(town, raw)
    write_json(town.settings_path, raw)
    return True


def _check(town: Town, raw: dict) -> None:
    """The whole would-be file must load: settings (timers) and presets."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.json"
        path.write_text(json.dumps(raw))
        try:
            TownSettings.load(path)
        except UserError as exc:
            raise ConfigError(str(exc).replace(str(path), str(town.settings_path))) from None
    _presets(town, raw)


def flatten(data: object, prefix: str = "") -> list[tuple[str, object]]:
    out = []
    if isinstance(data, dict) and data:
        for k in sorted(data):
            out += flatten(data[k], f"{prefix}.{k}" if prefix else k)
    else:
        out.append((prefix, data))
    return out


def listing(town: Town) -> list[tuple[str, object, bool]]:
    """(key, effective value, set in the file) for every setting, defaults included."""
    data = TownSettings.load(town.settings_path).data
    raw_keys = {k for k, _ in flatten(_raw(town))}
    return [(k, v, k in raw_keys) for k, v in flatten(data) if k not in ("type", "version")]
