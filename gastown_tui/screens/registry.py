"""Screen names (as used by `open_screen` and the palette) -> screen classes, imported on demand."""
from __future__ import annotations

import importlib

SCREENS = {
    "needs_you": ("gastown_tui.screens.needs_you", "NeedsYouScreen"),
    "merge_queue": ("gastown_tui.screens.merge_queue", "MergeQueueScreen"),
    "convoys": ("gastown_tui.screens.convoys", "ConvoysScreen"),
    "beads": ("gastown_tui.screens.beads", "BeadsScreen"),
    "mail": ("gastown_tui.screens.mail", "MailScreen"),
    "seance": ("gastown_tui.screens.seance", "SeanceScreen"),
    "welcome": ("gastown_tui.screens.welcome", "WelcomeScreen"),
}


def make_screen(name: str, **kwargs):
    if name not in SCREENS:
        raise ValueError(f"unknown screen {name!r} (known: town, {', '.join(SCREENS)})")
    module, cls = SCREENS[name]
    return getattr(importlib.import_module(module), cls)(**kwargs)
