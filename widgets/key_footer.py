"""`KeyFooter`: Textual's Footer, whose keys come out styled once instead of three times, and which is not
rebuilt when the bindings it shows did not change.

Textual's FooterKey starts compact (a class change, so its styles are worked out again) and most keys are then
bound to the footer's `compact`, usually not (the class goes, the styles are worked out once more). Here each
key is made with the `compact` it would end with (the footer's for a bound key, its own default for the
others) and its class with it, before it is mounted: binding it changes nothing and nothing is restyled.
And the footer rebuilds all its keys whenever the screen's bindings are updated (focus moves), which happens
a few times as a screen starts with the same keys each time: here it is rebuilt only when what it would show
differs (the keys it shows: `show` bindings). And its keys are made as soon as the screen has focused its
first widget (Textual's footer waits for a refresh after that), so the screen's first full frame shows the keys
it will keep, not those of a screen with nothing focused, replaced a frame later. On the Town screen the three
took about a fifth of the app's start-up after its imports. It looks and works the same
(tests/app/test_snapshots.py).
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer

from widgets.compat import (FooterKey, bound_reactive, footer_bindings_ready, reactive_default,
                            set_footer_bindings_ready)


class KeyFooter(Footer):
    _shown: tuple | None = None     # what the keys were last made from

    def _what_it_shows(self) -> tuple:
        bindings = tuple((key, binding, enabled, tooltip)
                         for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items()
                         if binding.show)
        return bindings, self.show_command_palette, self.compact, self.combine_groups, self.app.ENABLE_COMMAND_PALETTE

    def compose(self) -> ComposeResult:
        if self.screen.focused is None and not footer_bindings_ready(self):
            return  # the screen focuses its first widget next: the keys are made then, once (bindings_changed)
        set_footer_bindings_ready(self)
        self._shown = self._what_it_shows()
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                bound = bound_reactive(widget, "compact")
                compact = self.compact if bound is not None else reactive_default(FooterKey.compact)
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget

    def on_mount(self) -> None:
        if self._shown is None:  # (nothing took the focus after all: the keys come after the first refresh)
            self.call_after_refresh(self._first_keys)

    def _first_keys(self) -> None:
        if self._shown is None and self.is_attached:
            set_footer_bindings_ready(self)
            self.call_next(self.recompose)

    def bindings_changed(self, screen) -> None:
        """The keys are made (again) as soon as what the footer shows changes (the screen's first focus, a
        pane taking the keyboard), before the screen is next drawn: its first frame shows the keys its focused
        widget leaves, not those of a screen with nothing focused, replaced a frame later."""
        if self.is_attached and screen is self.screen and (
                self._shown is None or (screen.app.app_focus and self._what_it_shows() != self._shown)):
            set_footer_bindings_ready(self)
            self.call_next(self.recompose)
            return
        super().bindings_changed(screen)

    async def recompose(self) -> None:
        if self._shown is not None and self.children and self.is_attached and self._what_it_shows() == self._shown:
            return      # the same keys: nothing to rebuild
        await super().recompose()
