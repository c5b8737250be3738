"""`InProcessLink`: the town run inside the app's own process (`gastown --no-server`, the Pilot tests).

The app then owns the PTYs: a `TownRuntime` (sessions + patrols) on the app's
event loop, the agents ending with the app. Reads and actions run the same
`gastown_tui.server.api` functions the town server runs, in a thread. Session
events arrive as the session manager's plain callbacks and leave as
`StateEvent`s on the loop.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable

from watchfiles import awatch

from gastown_tui.client.link import OnState, StateEvent
from gastown_tui.patrols.activity import PatrolActivity
from gastown_tui.patrols.runtime import TownRuntime
from gastown_tui.server import api
from gastown_tui.sessions.spec import SessionSpec
from gastown_tui.sessions.states import SessionExited, SessionStarted, StateChange
from gastown_tui.town import agents
from gastown_tui.town.layout import Town
from gastown_tui.town.rigs import get_rig
from gastown_tui.town.settings import TownSettings


def spec_for(root: Path, address: str) -> SessionSpec:
    """The SessionSpec for an agent: its preset, workdir and environment."""
    town = Town(root)
    a = agents.parse(address)
    settings = TownSettings.load(town.settings_path)
    rig_settings = get_rig(town, a.rig).settings if a.rig else None
    preset = settings.agent_for(a.role, rig_settings, a.name)
    return SessionSpec(agent=address, preset=preset, cwd=agents.workdir(town, address), town=root,
                       env=agents.environment(town, address))


def state_event(event: object) -> StateEvent | None:
    """A session manager event as the app's StateEvent (None for the kinds the app does not show)."""
    if isinstance(event, StateChange):
        return StateEvent(event.agent, str(event.old), str(event.new), event.rule, event.at)
    if isinstance(event, SessionExited):
        return StateEvent(event.agent, "", "exited", "process.exit", exit_status=event.exit_status)
    if isinstance(event, SessionStarted):
        return StateEvent(event.agent, "", "starting", "session.start")
    return None


def relevant_change(root: Path) -> Callable[[object, str], bool]:
    """The files whose change means "read the town again": ledgers (and their wisp stores), the event log,
    settings and the rig registry; not worktrees, git internals, transcripts or lock files."""
    prefix = len(str(root))

    def relevant(_change: object, path: str) -> bool:
        rel = path[prefix:]
        if rel.endswith(".lock") or "/.git/" in rel or "/.repo.git/" in rel:
            return False
        return "/.beads/" in rel or rel == "/.events.jsonl" or rel.startswith(("/settings/", "/mayor/"))

    return relevant


class InProcessLink:
    detaches = False  # the agents are this process's children: leaving the app stops them

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.town = Town(self.root)
        self.runtime: TownRuntime | None = None

    @property
    def sessions(self):
        return self.runtime.sessions if self.runtime is not None else None

    async def start(self, on_state: OnState, start_agents: bool) -> None:
        if not start_agents:
            return
        runtime = TownRuntime(self.root)

        def listener(event: object) -> None:
            state = state_event(event)
            if state is not None:
                on_state(state)

        runtime.sessions.add_listener(listener)
        await runtime.start()
        self.runtime = runtime

    async def watch_town(self, on_town_changed: Callable[[], None]) -> None:
        async for _ in awatch(self.root, watch_filter=relevant_change(self.root), debounce=150, step=50,
                              recursive=True):
            on_town_changed()

    async def call(self, name: str, **args: Any) -> Any:
        return await asyncio.to_thread(api.dispatch, self.town, name, args)

    async def patrols(self) -> list[PatrolActivity]:
        """Every patrol's activity (empty when this app runs no patrols)."""
        rt = self.runtime
        if rt is None:
            return []
        out = []
        for name in rt.runner.names():
            role, _, rig = name.partition(":")
            out.append(rt.activity.activity(role, rig or None))
        return out

    async def lifecycle(self, what: str, address: str) -> str:
        if self.runtime is None:
            raise RuntimeError("agents are not running in this app (no session manager)")
        mgr = self.runtime.sessions
        current = mgr.get(address)
        alive = current is not None and current.alive
        if what == "start":
            if alive:
                return f"{address} is already running"
            if current is not None:
                await mgr.restart(address)
            else:
                await mgr.spawn(await asyncio.to_thread(spec_for, self.root, address))
        elif what == "stop":
            await mgr.stop(address)
        elif what == "restart":
            if current is None:
                await mgr.spawn(await asyncio.to_thread(spec_for, self.root, address))
            else:
                await mgr.restart(address)
        else:
            raise ValueError(f"unknown lifecycle action {what!r}")
        return f"{address}: {what} done"

    def focus(self, address: str | None) -> None:
        return None  # one app, one size: the panes resize their sessions directly

    def show_soon(self, address: str) -> None:
        return None  # the sessions' screens are in this process already

    async def close(self) -> None:
        runtime, self.runtime = self.runtime, None
        if runtime is not None:
            await runtime.stop()

    async def stop_town(self) -> None:
        await self.close()
