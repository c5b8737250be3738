"""State glyphs for agents, with plain-text fallbacks.

Every state an agent can be shown in has a glyph (for terminals with good
Unicode fonts) and a short plain word (for `glyphs: "plain"` in the town's
settings, or terminals that cannot draw the glyphs). Both carry the same
meaning; colour is added by the theme (`$state-<name>` variables).
"""
from __future__ import annotations

# state -> (glyph, plain fallback, human label)
STATES: dict[str, tuple[str, str, str]] = {
    "working": ("●", "[run]", "working"),
    "needs_approval": ("◆", "[ASK]", "needs approval"),
    "idle": ("○", "[idle]", "idle"),
    "stuck": ("▲", "[STUCK]", "stuck"),
    "dead": ("✖", "[DEAD]", "dead"),
    "finished_unseen": ("★", "[done]", "finished, not yet seen"),
    "starting": ("◌", "[start]", "starting"),
    "stopped": ("·", "[off]", "no session"),
    "finished": ("✓", "[fin]", "left the town"),  # a ghost: see gastown_tui/screens/ghosts.py
    "patrol": ("◎", "[patrol]", "a patrol inside the town"),  # Deacon, Boot, Witness, Refinery as code
}

# States that put an agent in the Needs-you queue and on the next-attention path.
ATTENTION = ("needs_approval", "stuck", "dead", "finished_unseen", "finished")


def glyph(state: str, plain: bool = False) -> str:
    """The glyph (or plain word) for a state; unknown states show as `?state`."""
    entry = STATES.get(state)
    if entry is None:
        return f"?{state}"
    return entry[1] if plain else entry[0]


def label(state: str) -> str:
    """The human label of a state."""
    entry = STATES.get(state)
    return entry[2] if entry else state


def format_age(seconds: float | None) -> str:
    """Time in state, compact: `42s`, `5m`, `2h05m`, `3d04h`; blank when unknown."""
    if seconds is None:
        return ""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h{m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d{h:02d}h"
