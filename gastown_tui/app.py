"""The gastown app: boots, holds the town controller and settings, switches screens.

Everything the Overseer sees is a screen in `gastown_tui/screens/`; everything
the town does is reached through one `TownLink` (`gastown_tui/client/`): the
town server's socket (the default: the agents outlive the app, ctrl+q detaches)
or the town run in this process (`--no-server`, the Pilot tests). Reads and
actions go out by name (`load`, `act`); the app holds no domain code.
"""
from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable

from textual import events, on, work
from textual.app import App, SystemCommand
from textual.dom import DOMNode
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from gastown_tui.client.first_read import FirstRead
from gastown_tui.client.link import StateEvent, TownLink
from gastown_tui.client.socket_link import SocketLink
from widgets.no_session_pane import NoSessionPane
from widgets.compat import ReusingStylesheet, app_keymap
from gastown_tui.resources import themes_dir
from gastown_tui.screens.town import TownScreen, first_live
from gastown_tui.server.reading import Reading
from gastown_tui.ui import collector
from gastown_tui.ui.controller import TownController
from gastown_tui.ui.keys import APP_KEYS, ATTACHED_APP_KEYS, bindings
from gastown_tui.ui.messages import ActionFinished, Notice, TownRefreshed
from gastown_tui.ui.notices import notices
from gastown_tui.ui.registry import make_screen
from gastown_tui.ui.settings import AppSettings, load_app_settings, settings_path
from gastown_tui.ui.themes import DEFAULT_THEME, default_variables, load_themes
from widgets.terminal_pane import TerminalPane

Apply = Callable[[Any, "str | None"], None]


class GastownApp(App):
    CSS_PATH = [themes_dir() / "app.tcss"]
    BINDINGS = bindings(APP_KEYS)
    TITLE = "gastown"
    MODES = {"welcome": partial(make_screen, "welcome"), "town": TownScreen}
    """The top-level screens: Welcome until a town is open, then the Town screen. Every other screen (by
    name, `ui/registry.py`, imported when first opened) opens on top of the Town screen, one at a time
    (`open_screen`)."""

    def __init__(self, town_root: Path | None, *, start_agents: bool = True,
                 clock: Callable[[], datetime] | None = None, tune_gc: bool = False,
                 link: TownLink | None = None, attach: bool = False) -> None:
        self.town_root = Path(town_root).resolve() if town_root else None
        self.start_agents = start_agents
        self.attach = attach  # a town opened from the Welcome screen runs in its server (started if need be)
        self.clock = clock
        self.tune_gc = tune_gc
        self.app_settings: AppSettings = load_app_settings(self.town_root)
        if link is None and self.town_root is not None:
            link = in_process_link(self.town_root)
        self.link = link
        self.controller = (TownController(link, self.app_settings, clock, start_agents)
                           if link is not None else None)
        super().__init__()
        self.stylesheet = ReusingStylesheet(variables=self.stylesheet._variables)
        self._theme_errors = self._choose_theme()
        self._last_view = None
        self._live_pending = False
        self._costs_at = float("-inf")  # when the town's costs were last asked for (monotonic)
        self._costs_pending = False
        self._costs_error = ""
        self._gc_untuned = True  # an attached app tunes the collector after its first full frame

    def on_resize(self, event) -> None:
        # deferred: the narrow layout (a phone, a small tab) loads only when the app is that narrow
        from gastown_tui.ui import narrow

        narrow.apply(self, event.size.width)  # a phone or a narrow terminal: the -narrow layout

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return default_variables()

    # -- start-up ----------------------------------------------------------------------------------

    def _choose_theme(self) -> list[str]:
        """Registers gastown's themes and sets the one chosen (settings, the town's, or the default) before
        Textual first parses the style sheets, so they are parsed once, with its colours. Returns the
        problems found (shown once the app runs)."""
        loaded = load_themes(self.town_root)
        for theme in loaded.themes:
            self.register_theme(theme)
        wanted = self.app_settings.theme or self._town_theme() or DEFAULT_THEME
        if wanted not in self.available_themes:
            loaded.errors.append(f"theme {wanted!r} not found (known: {', '.join(t.name for t in loaded.themes)})")
            wanted = DEFAULT_THEME
        self.theme = wanted
        self.stylesheet.set_variables(self.get_css_variables())
        return loaded.errors

    def on_mount(self) -> None:
        if self.tune_gc:  # (at the latest: the first full frame usually tunes it sooner)
            self.set_timer(collector.START_LIMIT, self._tune_gc)
        self.set_keymap(self.app_settings.keymap)
        for problem in self.app_settings.errors + self._theme_errors:
            self.notify(problem, title="Settings", severity="warning", timeout=12)
        if self.controller is None:
            self.switch_mode("welcome")
            return
        if self.detaches and getattr(self.link, "first", None) is not None:
            # `gastown` attached to a running server, whose answers were asked for while the app imported: the
            # Town screen is made once they are in, with the town in it (out of the start's batch update, so
            # nothing is laid out and drawn for nothing meanwhile)
            self.run_worker(self._first_view(), group="first-view", exit_on_error=False, description="opening the town")
            return
        self.switch_mode("town")
        if self.detaches:  # the server reads the town: connect and read at once, alongside the first frame
            self._start_town()
            return
        # in process, the first frame first: reading a big town holds the interpreter for a while, so it
        # starts once the Town screen has been drawn (the header says "loading" until then)
        self.call_after_refresh(self.set_timer, 0.02, self._start_town)

    def delay_update(self, delay: float = 0.05) -> None:
        """Textual holds every frame back for `delay` seconds after a mode switch, to mask the change. Leaving
        the blank screen the app starts on there is nothing to mask: the first Town (or Welcome) frame goes out
        as soon as it is drawn. (Held back, the attached app's first frame was drawn, dropped, and drawn again
        once the delay was over: a fifth of its start after the imports, issue 11.)"""
        if self.current_mode == self.DEFAULT_MODE:
            return
        super().delay_update(delay)

    FIRST_VIEW_WAIT = 2.0  # seconds the attached app waits for the town's first read before showing the screen

    async def _first_view(self) -> None:
        """Attached: connects (taking over the connection opened during the imports, `client/first_read.py`),
        reads the town and builds its view before the Town screen is made, so the screen's first frame shows
        the town, and the focused agent's pane with its rows (asked for before the pane is made). When that
        fails or takes longer than FIRST_VIEW_WAIT, the screen comes at once and the app starts as it does
        without a first read (its workers say what is wrong)."""
        connected = False
        try:
            await self.link.start(self._state_changed, self.start_agents)
            connected = True
            data = await asyncio.wait_for(self.link.call("town.read"), self.FIRST_VIEW_WAIT)
            reading = await asyncio.to_thread(Reading.from_json, data)
        except Exception:  # (said by the ordinary start's workers, which try again)
            self.switch_mode("town")
            if not connected:
                self._start_town()
                return
            self.refresh_town()
        else:
            view = self.controller.take_reading(reading)
            if (agent := first_live(view)) is not None:
                self.link.show_soon(agent)  # its rows come in while the Town screen is made: its pane draws them
            await self.switch_mode("town")
            self.post_message(TownRefreshed(view))  # (what a new view brings: notices, the title, costs later)
        if self.tune_gc:
            collector.collect_young_less_often()
        self.watch_town()
        self.live_changed()
        self.set_interval(1.0, self.refresh_patrols)

    def _start_town(self) -> None:
        if self.tune_gc and not self.detaches:  # (attached: after the first full frame, see _town_refreshed)
            self._tune_gc()
        elif self.tune_gc:
            collector.collect_young_less_often()
        self.refresh_town()
        self.watch_town()
        if self.start_agents or self.detaches:
            self.start_runtime()
        self.set_interval(1.0, self.refresh_patrols)

    @work(exclusive=True, group="patrols", exit_on_error=False, description="reading the patrols")
    async def refresh_patrols(self) -> None:
        """The patrol roles' panes show their patrol at work: fetched from the town once a second, drawn
        only into the panes on screen that show a patrol role."""
        panes = [p for p in self.screen.query(NoSessionPane) if p.display and p.agent.state == "patrol"]
        if not panes or self.link is None:
            return
        activities = await self.link.patrols()
        for pane in panes:
            for activity in activities:
                pane.show_patrol(activity)

    def _town_theme(self) -> str | None:
        try:
            data = json.loads(settings_path(self.town_root).read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError):
            return None
        theme = data.get("theme") if isinstance(data, dict) else None
        return theme if isinstance(theme, str) else None

    def open_town(self, root: Path) -> None:
        """Switches from the Welcome screen to a town (created, opened or the demo's): attached to its server
        (started first) when the app attaches, else run in this process."""
        if self.attach:
            self.run_worker(self._attach_town(Path(root).resolve()), group="open-town", exit_on_error=False,
                            description="starting the town's server")
            return
        self._open(Path(root).resolve(), in_process_link(Path(root).resolve()))

    async def _attach_town(self, root: Path) -> None:
        # deferred: starting a server is off the attach path (the first frame's speed, issue 11)
        from gastown_tui.client.control import start_background

        pid, started = await asyncio.to_thread(start_background, root)
        if started:
            self.notify(f"the town's server started (pid {pid}): its agents keep running when you leave",
                        title="Town")
        self._open(root, SocketLink(root))

    def _open(self, root: Path, link: TownLink) -> None:
        self.town_root = root
        self.app_settings = load_app_settings(self.town_root)
        self.link = link
        self.controller = TownController(self.link, self.app_settings, self.clock, self.start_agents)
        self.switch_mode("town")
        self.remove_mode("welcome")  # (its screen is dropped; there is no way back to it)
        self.refresh_town()
        self.watch_town()
        if self.start_agents or self.detaches:
            self.start_runtime()

    # -- workers: one place reports any that failed ---------------------------------------------------

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """Every worker of the app and its screens runs with exit_on_error=False; a failure is shown here
        (a town watcher that dies would otherwise leave the app silently stale)."""
        if event.state != WorkerState.ERROR:
            return
        worker = event.worker
        what = worker.description or worker.name or worker.group
        error = worker.error
        self.notify(f"{type(error).__name__}: {error}" if error is not None else "failed",
                    title=f"{what} stopped", severity="error", timeout=15)

    def load(self, name: str, apply: Apply, *, group: str, owner: DOMNode | None = None,
             decode: Callable[[Any], Any] | None = None, **args: Any) -> None:
        """Reads `name` from the town (off the loop, through the link) and calls `apply(result, error)` on the
        loop: `error` is the one-line reason when the read failed (then `result` is None). The worker belongs
        to `owner` (a screen: it ends with the screen); a newer load in the same group cancels an older one.
        `decode` turns the JSON answer into what `apply` wants, in a thread."""

        async def job() -> None:
            try:
                result = await self.link.call(name, **args)
                if decode is not None:
                    result = await asyncio.to_thread(decode, result)
            except Exception as exc:  # shown by the caller (`apply` gets the reason), never lost
                apply(None, str(exc) or type(exc).__name__)
            else:
                apply(result, None)

        (owner or self).run_worker(job(), group=group, exclusive=True, exit_on_error=False, description=f"load {name}")

    def act(self, what: str, name: str, **args: Any) -> None:
        """Runs the town action `name`; the outcome comes back as ActionFinished (a toast, and screens reload)."""

        async def job() -> None:
            try:
                detail = await self.link.call(name, **args)
            except Exception as exc:  # every failure is shown, none is lost
                self.post_message(ActionFinished(what, error=str(exc) or type(exc).__name__))
            else:
                self.post_message(ActionFinished(what, detail=str(detail or "")))

        self.run_worker(job(), group="action", exit_on_error=False, description=what)

    # -- the town view -------------------------------------------------------------------------------

    @work(exclusive=True, group="read-town", exit_on_error=False, description="reading the town")
    async def refresh_town(self) -> None:
        """Reads the town (off the loop) and shows the view built from it (on the loop)."""
        data = await self.link.call("town.read")
        reading = await asyncio.to_thread(Reading.from_json, data)
        self.post_message(TownRefreshed(self.controller.take_reading(reading)))

    @work(exclusive=True, group="watch-town", exit_on_error=False, description="watching the town")
    async def watch_town(self) -> None:
        """Re-reads the town whenever its ledgers, events or settings change."""
        await self.link.watch_town(self.refresh_town)

    @on(TownRefreshed)
    def _town_refreshed(self, message: TownRefreshed) -> None:
        old = self._last_view
        self._last_view = message.view
        for notice in notices(old, message.view):
            self.post_message(notice)
        for problem in message.view.errors:
            if problem not in (old.errors if old else ()):
                self.notify(problem, title="Town", severity="error", timeout=15)
        # deferred: the browser tab's badge, after the first frame
        from gastown_tui.ui.title_badge import publish

        publish(self, len(message.view.needs_you), f"gastown · {message.view.name}")  # a browser tab's title
        self._show(message.view)
        if old is None and self.detaches:
            self._after_first_view()
        self.refresh_costs()

    AFTER_FIRST_VIEW = 1.0  # seconds: what an attached app's first full frame need not wait for comes this late

    def _after_first_view(self) -> None:
        """An attached app's first full frame (the town view, then the focused pane's rows a few tens of ms
        later) goes out before the costs are read (their answer rebuilds and redraws the view) and before the
        collector is tuned (a full collection, 30-100 ms): both AFTER_FIRST_VIEW seconds later."""
        self._costs_at = time.monotonic() - self.COSTS_EVERY + self.AFTER_FIRST_VIEW
        if self.tune_gc and self._gc_untuned:
            self.set_timer(self.AFTER_FIRST_VIEW, self._tune_gc)

    def _tune_gc(self) -> None:
        if self._gc_untuned:
            self._gc_untuned = False
            collector.tune()

    # -- costs (issue 15): today's spend, per agent, convoy and bead -------------------------------

    COSTS_EVERY = 3.0  # seconds: the costs are read again when the town changes, but not more often than this

    def refresh_costs(self) -> None:
        """Asks the town for its costs (off the loop, through the link), at most once every COSTS_EVERY
        seconds: a change sooner is read when that time is up."""
        if self.controller is None or self.link is None or self._costs_pending:
            return
        wait = self._costs_at + self.COSTS_EVERY - time.monotonic()
        if wait > 0:
            self._costs_pending = True
            self.set_timer(wait, self._costs_due)
            return
        self._costs_at = time.monotonic()
        self.load("costs.spend", self._costs_loaded, group="costs")

    def _costs_due(self) -> None:
        self._costs_pending = False
        self.refresh_costs()

    def _costs_loaded(self, spend: dict | None, error: str | None) -> None:
        if error:
            if error != self._costs_error:  # said once, not every few seconds
                self._costs_error = error
                self.notify(error, title="Costs", severity="warning", timeout=12)
            return
        self._costs_error = ""
        if self.controller is not None and spend is not None and self.controller.take_spend(spend):
            view = self.controller.rebuild_view()
            self._last_view = view
            self._show(view)

    def _show(self, view) -> None:
        """Shows `view` on the current screen once it is mounted (a screen still composing shows the
        controller's latest view as it mounts: its widgets are not there yet)."""
        for screen in self.screen_stack:
            if hasattr(screen, "show_town") and screen.is_current and screen.is_mounted \
                    and getattr(screen, "view", None) is not view:
                screen.show_town(view)

    def live_changed(self) -> None:
        """Session states changed: rebuild the view from the last reading (no I/O) and show it.

        Many agents change state at once; the rebuilds are coalesced to one per 250 ms."""
        if self._live_pending:
            return
        self._live_pending = True
        self.set_timer(0.25, self._rebuild_live)

    def _rebuild_live(self) -> None:
        self._live_pending = False
        if self.controller is not None and self.controller.reading is not None:
            self.post_message(TownRefreshed(self.controller.rebuild_view()))  # (and reads the costs again:
            # a turn that ended wrote its usage records)

    def repaint_panes(self) -> None:
        for screen in self.screen_stack:
            if hasattr(screen, "repaint_panes"):
                screen.repaint_panes()

    async def on_unmount(self) -> None:
        if self.link is not None:
            await self.link.close()

    @on(Notice)
    def _notice(self, notice: Notice) -> None:
        self.notify(notice.text, title=notice.title, severity=notice.severity)
        if notice.bell and self.app_settings.bell:
            self.bell()

    # -- sessions and patrols ----------------------------------------------------------------------

    @work(exclusive=True, group="runtime", exit_on_error=False, description="starting the agents")
    async def start_runtime(self) -> None:
        await self.link.start(self._state_changed, self.start_agents)
        self.live_changed()

    def _state_changed(self, event: StateEvent) -> None:
        self.controller.session_state_changed(event)
        self.live_changed()

    def agent_lifecycle(self, what: str, address: str) -> None:
        """start / stop / restart one agent's session; the outcome is shown as a toast."""

        async def job() -> None:
            try:
                outcome = await self.link.lifecycle(what, address)
            except Exception as exc:  # shown, never swallowed
                self.notify(f"{what} {address}: {exc}", title="Agent", severity="error", timeout=10)
                return
            self.notify(outcome, title="Agent")
            self.live_changed()
            self.repaint_panes()

        self.run_worker(job(), group="lifecycle", exit_on_error=False, description=f"{what} {address}")

    def stop_town(self) -> None:
        """Asks, then stops every agent and the town's server (the palette's "Stop the town…")."""

        # deferred: forms load when first opened, not before the first frame
        from gastown_tui.screens.form import Field, FormScreen

        def chosen(values: dict | None) -> None:
            if values and values["confirm"].strip().lower() in ("y", "yes", "stop"):
                self.run_worker(self._stop_town(), group="stop-town", exit_on_error=False,
                                description="stopping the town")

        self.push_screen(FormScreen("Stop the town: every agent stops (type yes)",
                                    [Field("confirm", "Stop every agent and the town's server? yes/no")]), chosen)

    async def _stop_town(self) -> None:
        await self.link.stop_town()
        self.exit(message="the town is stopped: every agent and its server")

    # -- screens -------------------------------------------------------------------------------------

    def open_screen(self, name: str, **kwargs) -> None:
        if self.controller is None and name != "welcome":
            self.notify("open or create a town first", severity="warning")
            return
        if name == "town":
            while len(self.screen_stack) > 1:  # the Town screen is the bottom of its mode's stack
                self.pop_screen()
            return
        screen = make_screen(name, **kwargs)
        if len(self.screen_stack) > 1:
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
            if isinstance(self.focused, TerminalPane):
                return False
        return True

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """A pane the user types into: its agent's keys and size come from this app (the town server's
        size claim; another app only shows it)."""
        pane = event.widget
        if isinstance(pane, TerminalPane) and self.link is not None:
            agent = getattr(pane.session, "agent", None)
            if agent is not None:
                self.link.focus(agent)
                pane.claim_size()

    def action_open_screen(self, name: str) -> None:
        self.open_screen(name)

    def action_help(self) -> None:
        # deferred: the help screen loads when first opened
        from gastown_tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(app_keymap(self), detaches=self.detaches))

    @property
    def detaches(self) -> bool:
        """ctrl+q leaves the agents running (a town server holds them)."""
        return self.link is not None and self.link.detaches

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # deferred: the palette and the forms it opens load when it first opens
        from gastown_tui.ui.palette import commands  # (with the forms it opens: only when the palette opens)

        yield from commands(self, screen)
        yield from super().get_system_commands(screen)

    # -- actions -------------------------------------------------------------------------------------

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
        # deferred: forms load when first opened, not before the first frame
        from gastown_tui.screens.form import Field, FormScreen

        def send(values: dict | None) -> None:
            if values and values["text"].strip():
                self.act(f"nudge {address}", "nudge", address=address, text=values["text"])

        self.push_screen(FormScreen(f"Nudge {address}", [Field("text", "Text to type into the agent")]), send)


def in_process_link(root: Path) -> TownLink:
    """The town run inside this process. Deliberately deferred: the domain (sessions, patrols, ledgers,
    pydantic) loads only when the app runs the town itself, never in an app attached to a server
    (tests/app/test_import_hygiene.py keeps it so)."""
    # deferred: the in-process town (and its sessions) only for --no-server
    from gastown_tui.client.in_process import InProcessLink

    return InProcessLink(root)


class AttachedApp(GastownApp):
    """The app attached to a town's server: ctrl+q detaches (the footer says the agents keep running)."""

    BINDINGS = bindings(ATTACHED_APP_KEYS)


def run_app(town_root: Path | None, link: TownLink | None = None) -> int:
    """Opens the app on `town_root` (the Welcome screen when None); returns the exit status."""
    cls = AttachedApp if link is not None and link.detaches else GastownApp
    app = cls(town_root, tune_gc=True, link=link)
    app.run()
    return int(app.return_code or 0)


def attach_app(town_root: Path, first: FirstRead | None = None) -> int:
    """`gastown` / `gastown app` / `gastown demo`: starts the town's server unless one runs, then attaches the
    app to it (ctrl+q detaches; the agents keep running). `first`: the connection opened while the app
    imported (its server answered: none to start). Returns the app's exit status."""
    if first is not None and not first.answered():
        first.close()
        first = None
    if first is None:
        # deferred: server control is imported only when used, not before the first frame of `gastown` on
        # a running server
        from gastown_tui.client.control import start_background

        pid, started = start_background(town_root)
        if started:
            print(f"started the town's server (pid {pid}); the agents live there, not in this window", flush=True)
    status = run_app(town_root, SocketLink(town_root, first))
    # deferred: the server control code only once the app has ended
    from gastown_tui.client.control import status as control_status

    if control_status(town_root) is not None:  # detached (not "Stop the town…")
        print(f"detached: the town's agents keep running in its server; `gastown` attaches again, "
              f"`gastown down --town {town_root}` stops them", flush=True)
    return status
