"""Loads gastown's themes (TOML files) as Textual themes.

Built-in themes live in `themes/*.toml` (found through `resources.themes_dir()`);
a town may add its own in `<town>/settings/themes/*.toml`. Each file gives
Textual's base colours plus gastown's variables, exposed to the style sheets as
`$role-<role>`, `$state-<state>` and `$diff-<part>` (e.g. `$state-stuck`).
A bad file is reported (file, key, cause) and skipped; it never stops the app.
"""
from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

from gastown_tui.resources import themes_dir
from widgets.glyphs import STATES

DEFAULT_THEME = "gastown-dark"
BASE_KEYS = ("primary", "secondary", "accent", "foreground", "background", "surface", "panel",
             "success", "warning", "error")
ROLES = ("mayor", "deacon", "boot", "witness", "refinery", "polecat", "crew", "overseer")
DIFF_PARTS = ("added", "removed", "hunk", "added_bg", "removed_bg")
# A state a theme file does not colour borrows another state's colour (themes written before the state existed).
STATE_BORROWS = {"finished": "finished_unseen"}


class ThemeFileError(ValueError):
    """A theme file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class LoadedThemes:
    themes: list[Theme]
    errors: list[str]


def _colour(path: Path, key: str, value) -> str:
    if not isinstance(value, str):
        raise ThemeFileError(f"{path}: {key} must be a colour string, not {value!r}")
    try:
        Color.parse(value)
    except ColorParseError as exc:
        raise ThemeFileError(f"{path}: {key} = {value!r} is not a colour ({exc})") from None
    return value


def load_theme_file(path: Path, fallback: dict | None = None) -> Theme:
    """Reads one theme file; missing gastown variables are taken from `fallback` (the default theme's data)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ThemeFileError(f"{path}: cannot read ({exc.strerror})") from None
    fallback = fallback or {}
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ThemeFileError(f"{path}: name is missing (give the theme a name = \"...\")")
    if "primary" not in data:
        raise ThemeFileError(f"{path}: primary is missing (the one colour every theme needs)")
    base = {k: _colour(path, k, data[k]) for k in BASE_KEYS if k in data}
    variables: dict[str, str] = {}
    for section, keys, prefix in (("roles", ROLES, "role"), ("states", tuple(STATES), "state"),
                                  ("diff", DIFF_PARTS, "diff")):
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise ThemeFileError(f"{path}: [{section}] must be a table")
        for key in keys:
            value = table.get(key, fallback.get(section, {}).get(key))
            if value is None and section == "states" and key in STATE_BORROWS:
                other = STATE_BORROWS[key]
                value = table.get(other, fallback.get(section, {}).get(other))
            if value is not None:
                variables[f"{prefix}-{key.replace('_', '-')}"] = _colour(path, f"{section}.{key}", value)
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeFileError(f"{path}: dark must be true or false, not {dark!r}")
    return Theme(name=name.strip(), dark=dark, variables=variables, **base)


def load_themes(town_root: Path | None = None) -> LoadedThemes:
    """The built-in themes, then the town's own (`settings/themes/*.toml`); errors are collected, not raised."""
    errors: list[str] = []
    themes: list[Theme] = []
    builtin = themes_dir()
    default_path = builtin / f"{DEFAULT_THEME}.toml"
    fallback = tomllib.loads(default_path.read_text(encoding="utf-8"))
    folders = [builtin]
    if town_root is not None:
        folders.append(town_root / "settings" / "themes")
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                themes.append(load_theme_file(path, fallback))
            except ThemeFileError as exc:
                errors.append(str(exc))
    return LoadedThemes(themes, errors)


def default_variables() -> dict[str, str]:
    """gastown's variables from the default theme, so the style sheets parse under any theme (read once:
    Textual asks on every CSS refresh)."""
    return dict(_default_variables())


@functools.cache
def _default_variables() -> dict[str, str]:
    return dict(load_theme_file(themes_dir() / f"{DEFAULT_THEME}.toml").variables)
