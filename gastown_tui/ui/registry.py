"""Screen names (as used by `open_screen`, the palette and the keys) -> the screens' classes."""
from __future__ import annotations

from textual.screen import Screen

from gastown_tui.screens.beads import BeadsScreen
from gastown_tui.screens.convoys import ConvoysScreen
from gastown_tui.screens.mail import MailScreen
from gastown_tui.screens.merge_queue import MergeQueueScreen
from gastown_tui.screens.needs_you import NeedsYouScreen
from gastown_tui.screens.seance import SeanceScreen
from gastown_tui.screens.welcome import WelcomeScreen

SCREENS: dict[str, type[Screen]] = {
    "needs_you": NeedsYouScreen,
    "merge_queue": MergeQueueScreen,
    "convoys": ConvoysScreen,
    "beads": BeadsScreen,
    "mail": MailScreen,
    "seance": SeanceScreen,
    "welcome": WelcomeScreen,
}


def make_screen(name: str, **kwargs) -> Screen:
    if name not in SCREENS:
        raise ValueError(f"unknown screen {name!r} (known: town, {', '.join(SCREENS)})")
    return SCREENS[name](**kwargs)
