"""KeyFooter (widgets/key_footer.py): the keys of what has focus, as Textual's Footer shows them, rebuilt when
they change and only then."""
from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey

from widgets.key_footer import KeyFooter


class Box(Static, can_focus=True):
    pass


class Left(Box):
    BINDINGS = [Binding("x", "noop", "Left thing")]


class Right(Box):
    BINDINGS = [Binding("y", "noop", "Right thing")]


def make_app(footer_cls):
    class Keys(App):
        def compose(self) -> ComposeResult:
            yield Left("left", id="left")
            yield Right("right", id="right")
            yield footer_cls()

        def action_noop(self) -> None:
            pass

    return Keys()


def shown(app) -> list[str]:
    return sorted(k.description for k in app.screen.query(FooterKey) if k.description)


async def test_the_footer_follows_focus_like_textuals_and_is_rebuilt_only_when_its_keys_change():
    for cls in (Footer, KeyFooter):
        app = make_app(cls)
        async with app.run_test() as pilot:
            app.set_focus(app.query_one("#left"))
            await pilot.pause()
            await pilot.pause()
            left = shown(app)
            keys = list(app.screen.query(FooterKey))
            app.refresh_bindings()          # the same keys again: KeyFooter keeps its key widgets
            await pilot.pause()
            await pilot.pause()
            same = list(app.screen.query(FooterKey))
            kept = same == keys and all(k.is_attached for k in keys)
            plain = all(not k.has_class("-compact") and not k.compact for k in same
                        if not k.has_class("-command-palette"))
            app.set_focus(app.query_one("#right"))
            await pilot.pause()
            await pilot.pause()
            right = shown(app)
        assert "Left thing" in left and "Right thing" not in left, (cls, left)
        assert "Right thing" in right and "Left thing" not in right, (cls, right)
        if cls is KeyFooter:
            assert kept and plain       # the same key widgets, made as the footer's own `compact` says
