"""The private Textual APIs gastown (and its tests) use still exist in the installed Textual.

Product code reaches them only through widgets/compat.py; when an upgrade removes one, this fails
naming it instead of a pane silently painting late or a help screen losing its keys."""
from __future__ import annotations

from textual.app import App
from textual.command import CommandPalette

from widgets.compat import (PRIVATE_APIS, PRIVATE_APP_ATTRIBUTES, PRIVATE_MODULES, PRIVATE_REACTIVE_ATTRIBUTES,
                            PRIVATE_STYLESHEET_ATTRIBUTES, PRIVATE_WIDGET_ATTRIBUTES, FooterKey, ReusingStylesheet)

# used by tests only (tests/app/helpers.py, test_settings_and_looks.py, tests/sessions/test_pane_paint.py,
# test_first_read.py)
TEST_PRIVATE_APIS = ((CommandPalette, "_GATHER_COMMANDS_GROUP"), (App, "_display"))


def test_every_private_textual_api_exists():
    missing = [f"{owner.__name__}.{name}" for owner, name in PRIVATE_APIS + TEST_PRIVATE_APIS
               if not hasattr(owner, name)]
    assert not missing, f"Textual no longer has: {', '.join(missing)} (see widgets/compat.py)"


async def test_instance_private_apis_exist():
    """`_keymap`, `_batch_count`, `_notifications` and `_update_timer` are set on instances: check a running app."""
    app = App()
    async with app.run_test():
        missing = [name for name in PRIVATE_APP_ATTRIBUTES if not hasattr(app, name)]
        assert not missing, f"Textual's App no longer has: {', '.join(missing)} (see widgets/compat.py)"
        assert isinstance(app._keymap, dict) and isinstance(app._batch_count, int)
        assert hasattr(app, "_notifications") and hasattr(app.screen, "_update_timer")
        assert callable(app.screen._on_timer_update)


def test_every_private_textual_module_exists():
    import importlib

    for name in PRIVATE_MODULES:
        assert importlib.util.find_spec(name) is not None, f"Textual no longer has the module {name} (see widgets/compat.py)"


def test_widget_and_reactive_private_attributes_exist():
    from textual.widget import Widget

    widget = Widget()
    missing = [f"Widget().{name}" for name in PRIVATE_WIDGET_ATTRIBUTES if not hasattr(widget, name)]
    missing += [f"Reactive.{name}" for name in PRIVATE_REACTIVE_ATTRIBUTES if not hasattr(FooterKey.compact, name)]
    assert not missing, f"Textual no longer has: {', '.join(missing)} (see widgets/compat.py)"


def test_stylesheet_private_attributes_exist():
    from textual.css.stylesheet import Stylesheet

    sheet = Stylesheet(variables={"x": "red"})
    missing = [f"Stylesheet().{name}" for name in PRIVATE_STYLESHEET_ATTRIBUTES if not hasattr(sheet, name)]
    assert not missing, f"Textual no longer has: {', '.join(missing)} (see widgets/compat.py)"


def test_the_reusing_stylesheet_parses_again_only_for_new_variables():
    """Textual refreshes its CSS (setting the same variables, reparsing) several times as an app starts; the
    rules stay those parsed once. Other variables (another theme) give rules with the new values."""
    sheet = ReusingStylesheet(variables={"accent": "red"})
    sheet.add_source("Widget { color: $accent; }", read_from=("test", "css"))
    sheet.parse()
    first = sheet.rules
    sheet.set_variables({"accent": "red"})
    sheet.reparse()
    assert sheet.rules[0] is first[0]  # not parsed again
    sheet.set_variables({"accent": "blue"})
    sheet.reparse()
    assert sheet.rules[0] is not first[0]
    assert sheet.rules[0].styles.color.rgb == (0, 0, 255)
