"""Small helpers to colour Rich text with the theme's gastown variables."""
from __future__ import annotations

from rich.style import Style


def theme_colour(widget, variable: str, default: str = "") -> str:
    """A `$variable` of the running app's theme (e.g. `state-stuck`), or `default`."""
    try:
        return widget.app.theme_variables.get(variable, default)
    except RuntimeError:  # not mounted yet (NoActiveAppError)
        return default


def state_style(widget, state: str, bold: bool = False) -> Style:
    colour = theme_colour(widget, f"state-{state.replace('_', '-')}")
    return Style(color=colour or None, bold=bold)


def role_style(widget, role: str) -> Style:
    colour = theme_colour(widget, f"role-{role}")
    return Style(color=colour or None)
