"""The app's own settings: the `"app"` section of `<town>/settings/config.json`.

```json
{"app": {"theme": "gastown-dark", "keymap": {"town.next_agent": "j"},
         "prefix_key": "ctrl+b", "bell": false, "glyphs": "unicode"}}
```
Every key is optional. A bad value is reported (file, key, cause) and the
default is used for that key only; the rest of the file still applies.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from gastown_tui.ui.keys import KeymapError, validate_keymap

DEFAULT_PREFIX = "ctrl+b"


@dataclass
class AppSettings:
    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    prefix_key: str = DEFAULT_PREFIX
    bell: bool = False
    plain_glyphs: bool = False
    errors: list[str] = field(default_factory=list)


def settings_path(town_root: Path) -> Path:
    return town_root / "settings" / "config.json"


def load_app_settings(town_root: Path | None) -> AppSettings:
    settings = AppSettings()
    if town_root is None:
        return settings
    path = settings_path(town_root)
    if not path.exists():
        return settings
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        settings.errors.append(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); using default app settings")
        return settings
    except OSError as exc:
        settings.errors.append(f"{path}: cannot read ({exc.strerror}); using default app settings")
        return settings
    app = data.get("app", {}) if isinstance(data, dict) else {}
    if not isinstance(app, dict):
        settings.errors.append(f"{path}: \"app\" must be an object; using default app settings")
        return settings
    if "theme" in app:
        if isinstance(app["theme"], str):
            settings.theme = app["theme"]
        else:
            settings.errors.append(f"{path}: app.theme must be a theme name")
    if "keymap" in app:
        try:
            settings.keymap = validate_keymap(app["keymap"], str(path))
        except KeymapError as exc:
            settings.errors.append(str(exc))
    if "prefix_key" in app:
        if isinstance(app["prefix_key"], str) and app["prefix_key"].strip():
            settings.prefix_key = app["prefix_key"].strip()
        else:
            settings.errors.append(f"{path}: app.prefix_key must be a key such as \"ctrl+b\"")
    if "bell" in app:
        if isinstance(app["bell"], bool):
            settings.bell = app["bell"]
        else:
            settings.errors.append(f"{path}: app.bell must be true or false")
    if "glyphs" in app:
        if app["glyphs"] in ("unicode", "plain"):
            settings.plain_glyphs = app["glyphs"] == "plain"
        else:
            settings.errors.append(f"{path}: app.glyphs must be \"unicode\" or \"plain\", not {app['glyphs']!r}")
    return settings
