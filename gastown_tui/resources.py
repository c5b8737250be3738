"""Finds the data folders that ship with gastown (themes/, formulas/).

From a source checkout they are the top-level folders beside the package; in an
installed wheel they sit inside the package as `_themes/` and `_formulas/`
(see setup.py). Everything that needs them goes through this module.
"""
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    installed = _PACKAGE / f"_{name}"
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


def themes_dir() -> Path:
    """The built-in themes (*.tcss and theme definitions)."""
    return _data_dir("themes")


def formulas_dir() -> Path:
    """The built-in formulas (*.formula.toml)."""
    return _data_dir("formulas")
