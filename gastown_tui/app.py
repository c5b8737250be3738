"""The gastown app: boots, holds the town controller and settings, switches screens.

Everything the Overseer sees is a screen in `gastown_tui/screens/`; everything
the town does is domain code reached through `screens/town_adapter.py` and
`screens/town_actions.py`. This class only wires them together.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable

from textual import on, work
from textual.app import App, SystemCommand
from textual.screen import Screen

from gastown_tui.resources import themes_dir
from gastown_tui.screens.app_settings import AppSettings, load_app_settings
from gastown_tui.screens.controller import TownController
from gastown_tui.screens.keys import APP_KEYS, bindings
from gastown_tui.screens.messages import ActionFinished, Notice, TownRefreshed
from gastown_tui.screens.themes import DEFAULT_THEME, default_variables, load_themes


class GastownApp(App):
    CSS_PATH = [themes_dir() / "app.tcss"]
    BINDINGS = bindings(APP_KEYS)
    TITLE = "gastown"

    def __init__(self, town_root: Path | None, *, start_agents: bool = True,
                 clock: Callable[[], datetime] | None = None, tune_gc: bool = False) -> None:
        self.town_root = Path(town_root).resolve() if town_root else None
        self.start_agents = start_agents
        self.clock = clock
        self.tune_gc = tune_gc
        self.app_settings: AppSettings = load_app_settings(self.town_root)
        self.controller = (TownController(self.town_root, self.app_settings, clock, start_agents)
                           if self.town_root else None)
        super().__init__()
        self._theme_errors: list[str] = []

    def on_resize(self, event) -> None:
        from gastown_tui.screens import narrow

        narrow.apply(self, event.size.width)  # a phone or a narrow terminal: the -narrow layout

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return default_variables()

    # -- start-up ----------------------------------------------------------------------------------

    def on_mount(self) -> None:
        loaded = load_themes(self.town_root)
        for theme in loaded.themes:
            self.register_theme(theme)
        wanted = self.app_settings.theme or self._town_theme() or DEFAULT_THEME
        if wanted not in self.available_themes:
            loaded.errors.append(f"theme {wanted!r} not found (known: {', '.join(t.name for t in loaded.themes)})")
            wanted = DEFAULT_THEME
        self.theme = wanted
        self.set_keymap(self.app_settings.keymap)
        for problem in self.app_settings.errors + loaded.errors:
            self.notify(problem, title="Settings", severity="warning", timeout=12)
        if self.controller is None:
            from gastown_tui.screens.welcome import WelcomeScreen

            self.push_screen(WelcomeScreen())
            return
        from gastown_tui.screens.town import TownScreen

        self.push_screen(TownScreen())
        # the first frame first: reading a big town holds the interpreter for a while, so it starts
        # once the Town screen has been drawn (the header says "loading" until then)
        self.call_after_refresh(self.set_timer, 0.02, self._start_town)

    def _start_town(self) -> None:
        if self.tune_gc:
            # Everything built so far lives as long as the app: keep it out of the collector's way, and collect
            # young objects less often, so a full collection never lands in the middle of a key press.
            # (Only in the app's own process: `gastown` / run_app; not in tests that run many apps.)
            import gc

            gc.collect()
            gc.freeze()
            gc.set_threshold(20_000, 20, 50)
        self.refresh_town()
        self.watch_town()
        if self.controller.start_agents:
            self.start_runtime()

    def _town_theme(self) -> str | None:
        from gastown_tui.screens.app_settings import settings_path
        import json

        try:
            data = json.loads(settings_path(self.town_root).read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError):
            return None
        theme = data.get("theme") if isinstance(data, dict) else None
        return theme if isinstance(theme, str) else None

    def open_town(self, root: Path) -> None:
        """Switches from the Welcome screen to a town (created, opened or the demo's)."""
        self.town_root = Path(root).resolve()
        self.app_settings = load_app_settings(self.town_root)
        self.controller = TownController(self.town_root, self.app_settings, self.clock, self.start_agents)
        from gastown_tui.screens.town import TownScreen

        self.switch_screen(TownScreen())
        self.refresh_town()
        self.watch_town()
        if self.start_agents:
            self.start_runtime()

    # -- the town view -------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="read-town", exit_on_error=False)
    def refresh_town(self) -> None:
        """Reads the town in a thread and posts the new view."""
        self.post_message(TownRefreshed(self.controller.read_view()))

    @work(exclusive=True, group="watch-town", exit_on_error=False)
    async def watch_town(self) -> None:
        """Re-reads the town whenever its ledgers, events or settings change."""
        from watchfiles import awatch

        root = self.town_root

        def relevant(_change, path: str) -> bool:
            # ledgers (and their wisp stores), the event log, settings and the rig registry; not worktrees,
            # git internals, transcripts or lock files, which churn while agents work
            rel = path[len(str(root)):]
            if rel.endswith(".lock") or "/.git/" in rel or "/.repo.git/" in rel:
                return False
            return "/.beads/" in rel or rel == "/.events.jsonl" or rel.startswith(("/settings/", "/mayor/"))

        async for _ in awatch(root, watch_filter=relevant, debounce=150, step=50, recursive=True):
            self.refresh_town()

    @on(TownRefreshed)
    def _town_refreshed(self, message: TownRefreshed) -> None:
        from gastown_tui.screens.notices import notices

        old = getattr(self, "_last_view", None)
        self._last_view = message.view
        for notice in notices(old, message.view):
            self.post_message(notice)
        for problem in message.view.errors:
            if problem not in (old.errors if old else ()):
                self.notify(problem, title="Town", severity="error", timeout=15)
        from gastown_tui.web.title_badge import publish

        publish(self, len(message.view.needs_you), f"gastown · {message.view.name}")  # a browser tab's title
        self._show(message.view)

    def _show(self, view) -> None:
        for screen in self.screen_stack:
            if hasattr(screen, "show_town") and screen.is_current:
                screen.show_town(view)

    def live_changed(self) -> None:
        """Session states changed: rebuild the view from the last reading (no I/O) and show it.

        Many agents change state at once; the rebuilds are coalesced to one per 250 ms."""
        if getattr(self, "_live_pending", False):
            return
        self._live_pending = True
        self.set_timer(0.25, self._rebuild_live)

    def _rebuild_live(self) -> None:
        self._live_pending = False
        if self.controller is not None and self.controller.reading is not None:
            self.post_message(TownRefreshed(self.controller.rebuild_view()))

    def repaint_panes(self) -> None:
        for screen in self.screen_stack:
            if hasattr(screen, "repaint_panes"):
                screen.repaint_panes()

    async def on_unmount(self) -> None:
        from gastown_tui.screens.runtime_link import stop_runtime

        if self.controller is not None:
            await stop_runtime(self)

    @on(Notice)
    def _notice(self, notice: Notice) -> None:
        self.notify(notice.text, title=notice.title, severity=notice.severity)
        if notice.bell and self.app_settings.bell:
            self.bell()

    # -- sessions and patrols ----------------------------------------------------------------------

    @work(exclusive=True, group="runtime", exit_on_error=False)
    async def start_runtime(self) -> None:
        from gastown_tui.screens.runtime_link import start_runtime

        await start_runtime(self)

    def agent_lifecycle(self, what: str, address: str) -> None:
        from gastown_tui.screens.runtime_link import lifecycle

        self.run_worker(lifecycle(self, what, address), group="lifecycle", exit_on_error=False)

    # -- screens -------------------------------------------------------------------------------------

    def open_screen(self, name: str, **kwargs) -> None:
        from gastown_tui.screens.registry import make_screen

        if self.controller is None and name != "welcome":
            self.notify("open or create a town first", severity="warning")
            return
        if name == "town":
            while len(self.screen_stack) > 2:
                self.pop_screen()
            return
        screen = make_screen(name, **kwargs)
        if len(self.screen_stack) > 2:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    # App keys that a focused agent pane keeps for the agent (reach them with the prefix key).
    PANE_KEEPS = ("command_palette", "quit")
    prefix_dispatching = False  # set while the key after the prefix runs its app binding

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Screen keys are hidden (and off) until there is a town to show; while an agent pane
        has the keyboard, ctrl+p and ctrl+q go to the agent (ctrl+b then the key reaches the app)."""
        if action == "open_screen" and self.controller is None:
            return False
        if action in self.PANE_KEEPS and not self.prefix_dispatching:
            from widgets.terminal_pane import TerminalPane

            if isinstance(self.focused, TerminalPane):
                return False
        return True

    def action_open_screen(self, name: str) -> None:
        self.open_screen(name)

    def action_help(self) -> None:
        from gastown_tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(dict(self._keymap)))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from gastown_tui.screens.palette import commands

        yield from commands(self, screen)
        yield from super().get_system_commands(screen)

    # -- actions run in workers ---------------------------------------------------------------------

    def run_domain(self, what: str, fn, *args, **kwargs) -> None:
        """Runs a domain action in a thread; the outcome comes back as ActionFinished."""

        def job() -> None:
            try:
                detail = fn(*args, **kwargs)
            except Exception as exc:  # every failure is shown, none is lost
                self.post_message(ActionFinished(what, error=str(exc) or type(exc).__name__))
            else:
                self.post_message(ActionFinished(what, detail=str(detail or "")))

        self.run_worker(job, thread=True, group="domain", exit_on_error=False, description=what)

    @on(ActionFinished)
    def _action_finished(self, message: ActionFinished) -> None:
        if message.error:
            self.notify(message.error, title=f"{message.what} failed", severity="error", timeout=10)
        else:
            self.notify(message.detail or "done", title=message.what)
        if self.controller is not None:
            self.refresh_town()
        for screen in self.screen_stack:
            if hasattr(screen, "action_finished"):
                screen.action_finished(message)

    def ask_nudge(self, address: str) -> None:
        from gastown_tui.screens import town_actions
        from gastown_tui.screens.form import Field, FormScreen

        def send(values: dict | None) -> None:
            if values and values["text"].strip():
                self.run_domain(f"nudge {address}", town_actions.nudge, self.town_root, address, values["text"])

        self.push_screen(FormScreen(f"Nudge {address}", [Field("text", "Text to type into the agent")]), send)


def run_app(town_root: Path | None) -> int:
    """Opens the app on `town_root` (the Welcome screen when None); returns the exit status."""
    app = GastownApp(town_root, tune_gc=True)
    app.run()
    return int(app.return_code or 0)
