"""The private Textual APIs gastown relies on, in one place (tests/app/test_compat.py checks they exist).

Textual is pinned `>=8.2,<9` in pyproject.toml; each name here was checked in 8.2.8. When an upgrade
removes one, the test fails and this is the one file to change: nothing degrades silently.
"""
from __future__ import annotations

from textual.app import App
from textual.css.stylesheet import Stylesheet
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # noqa: F401  (re-exported for widgets.key_footer)

# every private API used: methods on the classes, and attributes set on each App instance
PRIVATE_APIS = ((Screen, "_on_timer_update"), (Footer, "_bindings_ready"))
PRIVATE_WIDGET_ATTRIBUTES = ("_reactive_connect",)  # set on each Widget instance
PRIVATE_REACTIVE_ATTRIBUTES = ("_default",)  # set on each Reactive (e.g. FooterKey.compact)
PRIVATE_APP_ATTRIBUTES = ("_batch_count", "_keymap")
PRIVATE_STYLESHEET_ATTRIBUTES = ("_variables", "_parse_cache", "_invalid_css")  # set on each Stylesheet
PRIVATE_MODULES = ("textual.widgets._footer",)  # FooterKey is not exported by textual.widgets


def footer_bindings_ready(footer: Footer) -> bool:
    """Whether the footer has read its screen's bindings yet."""
    return bool(footer._bindings_ready)


def set_footer_bindings_ready(footer: Footer) -> None:
    """Lets the footer show its screen's keys from its first compose (Textual's waits for the screen's first
    bindings update, then composes again)."""
    footer.set_reactive(Footer._bindings_ready, True)


def bound_reactive(widget: Widget, name: str):
    """What the reactive `name` of `widget` was bound to with `data_bind`, or None."""
    return (widget._reactive_connect or {}).get(name)


def reactive_default(reactive: Reactive):
    """A reactive's declared default value."""
    return reactive._default


def paint_now(screen: Screen) -> None:
    """Runs the screen's own update tick now (what `Pilot.pause` does; there is no public "paint now")."""
    screen._on_timer_update()


def in_batch_update(app: App) -> bool:
    """Inside `App.batch_update()` (painting now would show a half-updated screen)."""
    return bool(app._batch_count)


def app_keymap(app: App) -> dict[str, str]:
    """The keymap in force (binding id -> keys), as set with `App.set_keymap`."""
    return dict(app._keymap)


class ReusingStylesheet(Stylesheet):
    """Textual's Stylesheet, without parsing the same style sheets again for nothing.

    Textual refreshes its CSS when the theme is set, when a mode's screen is first shown and when the
    screen is switched: each refresh sets the variables again (which drops every parsed rule) and
    reparses every style sheet from scratch, although the variables did not change. Before the Town
    screen's first frame that was three full parses more (some 15 ms each). Here variables equal to
    the ones in force keep the rules parsed with them, and a reparse takes each unchanged source's rules
    from the parse cache (set_variables empties it whenever the variables do change, so what it holds
    was always parsed with the variables in force). A source that failed is tried again, as before."""

    def set_variables(self, variables: dict[str, str]) -> None:
        if variables != self._variables:
            super().set_variables(variables)

    def reparse(self) -> None:
        self._invalid_css = set()
        self.parse()
