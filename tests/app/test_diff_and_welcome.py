"""The diff view redraws only changed lines and lays out side by side; the Welcome screen creates a town."""
from __future__ import annotations

import asyncio

from textual.app import App

from gastown_tui.screens.form import FormScreen
from gastown_tui.screens.town import TownScreen
from gastown_tui.screens.welcome import WelcomeScreen

from widgets.diff_model import side_by_side, split_files
from widgets.diff_view import DiffView

from .helpers import make_app, until, until_screen

DIFF = """diff --git a/pkg/mod.py b/pkg/mod.py
index 1111111..2222222 100644
--- a/pkg/mod.py
+++ b/pkg/mod.py
@@ -1,4 +1,5 @@
 def greet(who):
-    return "hi " + who
+    return f"hello {who}"
+
 
 def other():
diff --git a/README.md b/README.md
new file mode 100644
--- /dev/null
+++ b/README.md
@@ -0,0 +1 @@
+# readme
"""


def test_split_files_numbers_both_sides():
    files = split_files(DIFF)
    assert [f.path for f in files] == ["pkg/mod.py", "README.md"]
    mod = files[0]
    assert (mod.added, mod.removed) == (2, 1)
    removed = next(l for l in mod.lines if l.kind == "del")
    added = next(l for l in mod.lines if l.kind == "add")
    assert (removed.old, removed.new, added.old, added.new) == (2, None, None, 2)
    rows = side_by_side(mod.lines)
    pair = next(r for r in rows if r[0] is not None and r[0].kind == "del")
    assert pair[1].kind == "add" and pair[1].text == '    return f"hello {who}"'


class DiffApp(App):
    def compose(self):
        yield DiffView()


async def test_only_changed_lines_are_redrawn():
    app = DiffApp()
    async with app.run_test(size=(100, 20)) as pilot:
        view = app.query_one(DiffView)
        first = split_files(DIFF)[0]
        view.show_file(first)
        await pilot.pause()
        assert len(view.redrawn_rows) == len(first.lines)
        changed = DIFF.replace('f"hello {who}"', 'f"hello, {who}"')
        view.show_file(split_files(changed)[0])
        await pilot.pause()
        index = next(i for i, l in enumerate(first.lines) if l.kind == "add")
        assert view.redrawn_rows == [index]
        line = "".join(seg.text for seg in view.render_line(index))
        assert 'hello, {who}' in line and line.split()[0] == "2" and "+" in line
        view.show_file(split_files(changed)[0], mode="side")
        await pilot.pause()
        row = next("".join(s.text for s in view.render_line(y)) for y in range(10)
                   if "hello, {who}" in "".join(s.text for s in view.render_line(y)))
        assert '"hi " + who' in row  # the removed line faces the line that replaced it


async def test_welcome_creates_a_town_and_opens_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(None, start_agents=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await until_screen(pilot, WelcomeScreen, what="welcome")
        await pilot.press("enter")  # Create a town
        await until_screen(pilot, FormScreen, what="the form")
        form = app.screen
        form.query_one("#field-path").value = str(tmp_path / "newtown")
        form.query_one("#field-name").value = "newtown"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, TownScreen) and app.screen.view is not None,
                    timeout=20, what="the new town's Town screen")
        assert (tmp_path / "newtown" / "mayor" / "town.json").is_file()
        assert app.screen.view.name == "newtown"
        assert {a.address for a in app.screen.view.agents} >= {"mayor/", "deacon/"}


async def test_welcome_opens_an_existing_town(shared_town, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(None, start_agents=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await until_screen(pilot, WelcomeScreen, what="welcome")
        await pilot.press("down", "enter")  # Open a town
        await until_screen(pilot, FormScreen, what="the form")
        app.screen.query_one("#field-path").value = str(shared_town / "alpha")  # any folder inside the town
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, TownScreen) and app.screen.view is not None,
                    timeout=20, what="the town")
        assert app.screen.view.name == "snaptown"


async def test_welcome_builds_the_demo_town(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(None, start_agents=False)  # the factory itself is the demo's own test; here: it opens
    async with app.run_test(size=(120, 40)) as pilot:
        await until_screen(pilot, WelcomeScreen, what="welcome")
        await pilot.press("down", "down", "enter")  # Run the demo
        await until_screen(pilot, FormScreen, what="the form")
        app.screen.query_one("#field-path").value = str(tmp_path / "demo")
        await pilot.press("ctrl+s")
        # The Overseer's plan waits on the Mayor's hook: the Mayor files the beads and the convoy once it runs.
        await until(pilot, lambda: isinstance(app.screen, TownScreen) and app.screen.view is not None
                    and app.screen.view.agent("mayor/") is not None
                    and app.screen.view.agent("mayor/").hook_title.startswith("Plan: textkit features"),
                    timeout=60, what="the demo town with the plan on the Mayor's hook")


async def test_welcome_attaches_the_town_it_opens_to_the_towns_server(tmp_path, monkeypatch):
    """`gastown` with no town: the town chosen on the Welcome screen runs in its own server (started for it),
    so its agents outlive the app; ctrl+q then detaches."""
    from gastown_tui.client import control
    from gastown_tui.town.install import install_town

    root = install_town(tmp_path / "fresh").root
    monkeypatch.chdir(tmp_path)
    app = make_app(None, start_agents=True, attach=True)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await until_screen(pilot, WelcomeScreen, what="welcome")
            await pilot.press("down", "enter")  # Open a town
            await until_screen(pilot, FormScreen, what="the form")
            app.screen.query_one("#field-path").value = str(root)
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, TownScreen) and app.screen.view is not None
                        and app.controller.sessions is not None, timeout=60, what="the town, attached")
            assert app.detaches
            status = await asyncio.to_thread(control.status, root)
            assert status is not None and any(c["client"] == "app" for c in status["clients"])
        assert await asyncio.to_thread(control.status, root) is not None, "leaving the app stopped the town's server"
    finally:
        await asyncio.to_thread(control.stop, root)
