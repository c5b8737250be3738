"""The small-screen layout (a phone in a browser, or a narrow terminal): below NARROW_COLUMNS.

The app carries the class `-narrow` while it is narrower than NARROW_COLUMNS
(`apply`, called on every resize); themes/app.tcss does the rest: the Town
screen shows one agent pane at a time and swaps it for the agent list with one
tap, and each screen with actions shows an `ActionBar` of big buttons (touch
targets, never hover-only) instead of relying on keys alone (`widgets/action_bar.py`).
"""
from __future__ import annotations

NARROW_COLUMNS = 100


def apply(app, width: int) -> None:
    """Sets or clears the app's `-narrow` class for a terminal `width` columns wide."""
    app.set_class(width < NARROW_COLUMNS, "-narrow")
