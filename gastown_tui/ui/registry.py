"""Screen names (as used by `open_screen`, the palette and the keys) -> the screens' classes.

A screen's module is imported the first time that screen is opened, not when the app starts: the first
frame (the Town screen) needs none of them, and together they cost ~55 ms of the app's start-up imports
(merge queue + diff view, beads, ...; `python -X importtime -c "import gastown_tui.app"`)."""
from __future__ import annotations

from importlib import import_module

from textual.screen import Screen

SCREENS: dict[str, tuple[str, str]] = {  # name -> (module, class)
    "needs_you": ("gastown_tui.screens.needs_you", "NeedsYouScreen"),
    "merge_queue": ("gastown_tui.screens.merge_queue", "MergeQueueScreen"),
    "convoys": ("gastown_tui.screens.convoys", "ConvoysScreen"),
    "beads": ("gastown_tui.screens.beads", "BeadsScreen"),
    "mail": ("gastown_tui.screens.mail", "MailScreen"),
    "seance": ("gastown_tui.screens.seance", "SeanceScreen"),
    "welcome": ("gastown_tui.screens.welcome", "WelcomeScreen"),
}


def screen_class(name: str) -> type[Screen]:
    if name not in SCREENS:
        raise ValueError(f"unknown screen {name!r} (known: town, {', '.join(SCREENS)})")
    module, cls = SCREENS[name]
    return getattr(import_module(module), cls)


def make_screen(name: str, **kwargs) -> Screen:
    return screen_class(name)(**kwargs)
