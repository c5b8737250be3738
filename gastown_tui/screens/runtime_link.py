"""Starts and stops the town's agents for the app, and adapts session callbacks to the app.

The app owns the PTYs: it runs a SessionManager (sessions layer) and, when the
patrols layer provides it, the patrol runner, on its own event loop. Session
state changes arrive as plain callbacks; here they become controller updates
plus a view refresh (messages at the edge). Nothing blocks the loop: every
domain call that touches files runs in a thread.
"""
from __future__ import annotations

import asyncio

from gastown_tui.screens.town_adapter import NotBuiltYet, domain


def spec_for(root, address: str):
    """The SessionSpec for an agent: its preset, workdir and environment (town + sessions API)."""
    town = domain("gastown_tui.town.layout:Town")(root)
    agents = domain("gastown_tui.town.agents:parse")
    a = agents(address)
    settings = domain("gastown_tui.town.settings:TownSettings").load(town.settings_path)
    rig_settings = None
    if a.rig:
        rig_settings = domain("gastown_tui.town.rigs:get_rig")(town, a.rig).settings
    preset = settings.agent_for(a.role, rig_settings, a.name)
    workdir = domain("gastown_tui.town.agents:workdir")(town, address)
    env = domain("gastown_tui.town.agents:environment")(town, address)
    SessionSpec = domain("gastown_tui.sessions.session:SessionSpec")
    return SessionSpec(agent=address, preset=preset, cwd=workdir, town=root, env=env)


def _listener(app):
    address_from_key = domain("gastown_tui.town.addresses:address_from_key")

    def on_event(event) -> None:
        kind = type(event).__name__
        key = getattr(event, "agent_key", None)
        address = getattr(event, "agent", None) or (address_from_key(key) if key else None)
        if address is None:
            return
        ctl = app.controller
        if kind == "StateChange":
            ctl.session_state_changed(address, str(event.old), str(event.new), event.rule, event.at)
        elif kind == "SessionExited":
            ctl.session_state_changed(address, "", "exited", "process.exit",
                                      exit_status=getattr(event, "exit_status", None))
        elif kind == "SessionStarted":
            ctl.session_state_changed(address, "", "starting", "session.start")
        else:
            return
        app.live_changed()

    return on_event


async def start_runtime(app) -> None:
    """Starts the session manager (and the patrols, when built) for the app's town."""
    ctl = app.controller
    try:
        from widgets.terminal_pane import TerminalPane

        ctl.pane_factory = TerminalPane
    except ImportError:
        ctl.pane_factory = None
    try:
        Runtime = domain("gastown_tui.patrols.runtime:TownRuntime")
    except NotBuiltYet:
        Runtime = None
    try:
        if Runtime is not None:
            runtime = Runtime(ctl.root)
            runtime.sessions.add_listener(_listener(app))
            await runtime.start()
        else:
            Manager = domain("gastown_tui.sessions.manager:SessionManager")
            runtime = _SessionsOnly(Manager(ctl.root))
            runtime.sessions.add_listener(_listener(app))
            await runtime.start()
    except NotBuiltYet as exc:
        app.notify(f"agents cannot run here: {exc}", title="Sessions", severity="warning", timeout=10)
        return
    ctl.runtime = runtime
    app.live_changed()


class _SessionsOnly:
    """Until the patrols layer offers a runtime: just the session manager (agents started by hand)."""

    def __init__(self, sessions) -> None:
        self.sessions = sessions

    async def start(self) -> None:
        await self.sessions.start()

    async def stop(self) -> None:
        await self.sessions.close()


async def stop_runtime(app) -> None:
    ctl = app.controller
    if ctl is not None and ctl.runtime is not None:
        runtime, ctl.runtime = ctl.runtime, None
        await runtime.stop()


async def lifecycle(app, what: str, address: str) -> None:
    """start / stop / restart one agent's session; the outcome is shown as a toast."""
    ctl = app.controller
    if ctl is None or ctl.runtime is None:
        app.notify("agents are not running in this app (no session manager)", severity="warning")
        return
    mgr = ctl.runtime.sessions
    try:
        current = mgr.get(address)
        alive = current is not None and getattr(current, "alive", True)
        if what == "start":
            if alive:
                app.notify(f"{address} is already running")
                return
            if current is not None:
                await mgr.restart(address)
            else:
                await mgr.spawn(await asyncio.to_thread(spec_for, ctl.root, address))
        elif what == "stop":
            await mgr.stop(address)
        elif what == "restart":
            if current is None:
                await mgr.spawn(await asyncio.to_thread(spec_for, ctl.root, address))
            else:
                await mgr.restart(address)
        else:
            raise ValueError(f"unknown lifecycle action {what!r}")
    except Exception as exc:  # shown, never swallowed
        app.notify(f"{what} {address}: {exc}", title="Agent", severity="error", timeout=10)
        return
    app.notify(f"{address}: {what} done", title="Agent")
    app.live_changed()
    app.repaint_panes()
