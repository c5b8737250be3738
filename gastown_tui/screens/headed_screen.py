"""A screen under the town's header line (Beads, Convoys, Mail, Merge queue, Needs you, Seance).

The header is bound to the screen's reactives (`data_bind`): `show_town` sets `view` and `plain`
and the header follows; a screen names itself with `header_title`. No screen pushes values into
the header by hand.
"""
from __future__ import annotations

from textual.reactive import var
from textual.screen import Screen

from widgets.town_header import TownHeader
from widgets.view_models import TownView


class HeadedScreen(Screen):
    view: var[TownView | None] = var(None)
    """The town as last shown (the app calls `show_town` with each new view)."""
    plain: var[bool] = var(False)
    """Plain glyphs (settings `app.glyphs`), bound into the header (and the screen's trees)."""
    header_title: var[str] = var("")
    """The screen's name in the header, after the town's."""

    def town_header(self) -> TownHeader:
        """The header, bound to this screen's view, glyph mode and title (call it in `compose`)."""
        return TownHeader(id="header").data_bind(HeadedScreen.plain, town=HeadedScreen.view,
                                                 title=HeadedScreen.header_title)

    def show_town(self, view: TownView) -> None:
        self.plain = self.app.controller.plain
        self.view = view
