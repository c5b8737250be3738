"""`KeyFooter`: Textual's Footer, whose keys come out styled once instead of three times.

Textual's FooterKey starts compact (a class change, so its styles are worked out again) and most keys are then
bound to the footer's `compact`, usually not (the class goes, the styles are worked out once more). The footer
builds all its keys again whenever the bindings change (focus moves), which happens a few times as a screen
starts: on the Town screen some 90 key widgets restyled twice each, about a sixth of the app's start-up after
its imports. Here each key is made with the `compact` it would end with (the footer's for a bound key, its own
default for the others) and its class with it, before it is mounted: binding it changes nothing and nothing is
restyled. It looks and works the same (tests/app/test_snapshots.py).
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeyFooter(Footer):
    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                bound = (widget._reactive_connect or {}).get("compact")
                compact = self.compact if bound is not None else FooterKey.compact._default
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget
