"""A running town: the session manager plus the patrol runner, on the caller's event loop.

    rt = TownRuntime(town_root)
    await rt.start()     # sessions for hooked agents come from GUPP's first run
    ...
    await rt.stop()      # patrols first, then every session (no child left)

Used by `gastown run --headless`, the demo and the app. Patrols: `deacon`,
`boot`, `dogs`, `gupp`, `handoff` (replaces a session that ran `gt handoff`), and `witness:<rig>` / `refinery:<rig>` for each rig
(the Deacon adds them for rigs added later). Timers come from
`settings/config.json` → `patrols` (patrols/settings.py).
"""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

from gastown_tui import townlog
from gastown_tui.patrols.actions import Actions
from gastown_tui.patrols.activity import ActivityLog
from gastown_tui.patrols.base import Change, Timer
from gastown_tui.patrols.budget import BudgetPatrol
from gastown_tui.patrols.boot import Boot, BootSettings
from gastown_tui.patrols.deacon import Deacon, DeaconSettings
from gastown_tui.patrols.dogs import Dogs, DogSettings
from gastown_tui.patrols.eventlog import append_event
from gastown_tui.patrols.gupp import Gupp, GuppSettings, beacon
from gastown_tui.patrols.handoffs import Handoffs, HandoffSettings
from gastown_tui.patrols.observe import Observer
from gastown_tui.patrols.refinery import Refinery
from gastown_tui.patrols.runner import PatrolRunner
from gastown_tui.patrols.settings import PatrolSettings, load_patrol_settings
from gastown_tui.patrols.witness import Witness, WitnessThresholds
from gastown_tui.town.layout import Town
from gastown_tui.town.rigs import list_rigs
from gastown_tui.town.shims import write_shims
from gastown_tui.town.write_lock import TownWriteLock, process_write_lock


MAYOR = "mayor/"


class TownRuntime:
    def __init__(self, town_root: Path, *, sessions=None, record_events: bool = True, watch: bool = True,
                 settings: PatrolSettings | None = None, write_lock: TownWriteLock | None = None,
                 start_mayor: bool = False):
        self.town = Town(Path(town_root).resolve())
        townlog.configure(self.town.runtime)   # what the core catches and logs lands in .runtime/gastown.log
        self.settings = settings or load_patrol_settings(self.town.settings_path)
        self._own_sessions = sessions is None
        if sessions is None:
            # Deferred: the session manager loads pexpect and psutil, which a runtime
            # handed its sessions (tests, `gastown polecat reap`) never needs.
            from gastown_tui.sessions.manager import SessionManager

            sessions = SessionManager(self.town.root)
        self.sessions = sessions
        # One writer of town state per process (town/write_lock.py): patrol runs and the
        # operator's writes take turns on this lock; readers never take it.
        self.write_lock = write_lock or process_write_lock()
        self.runner = PatrolRunner(self.town.root, record_events=record_events, watch=watch,
                                   write_lock=self.write_lock)
        self.observer = Observer(self.town, sessions)
        self.activity = ActivityLog(self.runner)    # what the patrol roles' panes show
        self.actions: Actions | None = None
        self.started_at: float | None = None
        self.start_mayor = start_mayor   # the Mayor is the town's front door: `gastown up` starts it
        self.sling_fn = None  # the Deacon's sling; the town server sets the placing one (nodes/placement.py)

    # ------------------------------------------------------------------ patrol factory
    def timer(self) -> Timer:
        return Timer(self.settings.backoff_base, self.settings.backoff_max)

    def make_patrol(self, name: str):
        s = self.settings
        role, _, rig = name.partition(":")
        if role == "witness":
            th = WitnessThresholds(stalled_after=s.stalled, hung_after=s.hung, spawn_grace=s.spawn_grace,
                                   max_restarts=s.max_restarts, retire_after=s.retire_after)
            return Witness(rig, self.observer, self.actions, th, timer=self.timer())
        if role == "refinery":
            return Refinery(self.town, rig, timer=self.timer())
        if role == "deacon":
            return Deacon(self.town.root, self.observer, self.actions, DeaconSettings(s.feed_per_run),
                          timer=self.timer(), patrol_names=self._alive_names)
        if role == "boot":
            return Boot(self.town, self.actions, lambda: self.runner.has("deacon"),
                        BootSettings(s.heartbeat_stale, s.heartbeat_very_stale, grace=s.boot_interval),
                        timer=Timer(s.boot_interval, s.boot_interval), started_at=self.started_at)
        if role == "dogs":
            return Dogs(self.town, DogSettings(s.wisp_ttl), timer=Timer(s.dogs_base, s.dogs_max))
        if role == "gupp":
            return Gupp(self.observer, self.actions, GuppSettings(idle_after=s.gupp_idle), timer=self.timer())
        if role == "budget":
            return BudgetPatrol(self.town, self.sessions, self.actions, timer=Timer(5, 60))
        if role == "handoff":
            return Handoffs(self.town, self.sessions, self.actions,
                            HandoffSettings(wait=s.handoff_wait, retry=s.backoff_base), timer=self.timer())
        raise ValueError(f"no patrol called {name!r}")

    def _alive_names(self) -> set[str]:
        return {n for n in self.runner.names() if self.runner.has(n)}

    def ensure_patrol(self, name: str) -> None:
        role = name.partition(":")[0]
        if role in self.settings.disabled or self.runner.has(name):
            return
        self.runner.add(self.make_patrol(name))

    def restart_deacon(self) -> None:
        self.runner.add(self.make_patrol("deacon"))  # replaces the old one

    def initial_patrols(self) -> list[str]:
        names = ["deacon", "boot", "dogs", "gupp", "handoff", "budget"]  # budget: a no-op until budgets are set
        for rig in list_rigs(self.town):
            names += [f"witness:{rig.name}", f"refinery:{rig.name}"]
        return [n for n in names if n.partition(":")[0] not in self.settings.disabled]

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.started_at = time.time()
        self._ensure_shims()
        self.actions = Actions(self.town, self.sessions, loop, wake=self.runner.wake,
                               ensure_patrol=self.ensure_patrol_threadsafe, restart_deacon=self.restart_deacon_threadsafe,
                               sling_fn=self.sling_fn)
        await self.sessions.start()
        self.sessions.add_listener(self._on_session_event)
        for name in self.initial_patrols():
            self.runner.add(self.make_patrol(name))
        await self.runner.start()
        if self.start_mayor:
            await self._start_mayor()

    async def _start_mayor(self) -> None:
        """Starts the Mayor's session (the agent the Overseer talks to); a failure is logged, not fatal."""
        existing = self.sessions.get(MAYOR)
        if existing is not None and existing.alive:
            return
        try:
            if self.actions is None:
                raise RuntimeError("the patrols' actions are not set up (start() sets them)")
            spec = await asyncio.to_thread(self.actions._spec, MAYOR, beacon(MAYOR, None, "overseer", time.time(),
                                                                             "start"))
            await self.sessions.spawn(spec)
        except Exception as exc:  # a missing agent CLI must not stop the patrols; the Overseer is told
            await asyncio.to_thread(append_event, self.town.root, "mayor_not_started", "deacon",
                                    {"error": f"{type(exc).__name__}: {exc}"}, "both")

    async def stop(self) -> None:
        await self.runner.stop()
        if self._own_sessions:
            await self.sessions.close()

    def _runner_loop(self) -> asyncio.AbstractEventLoop:
        if self.runner._loop is None:
            raise RuntimeError("the patrol runner is not running")
        return self.runner._loop

    def ensure_patrol_threadsafe(self, name: str) -> None:
        self._runner_loop().call_soon_threadsafe(self.ensure_patrol, name)

    def restart_deacon_threadsafe(self) -> None:
        self._runner_loop().call_soon_threadsafe(self.restart_deacon)

    def _ensure_shims(self) -> None:
        if not (self.town.shims_dir / "gt").exists():
            write_shims(self.town.shims_dir)

    def _on_session_event(self, event) -> None:
        kind = type(event).__name__
        if kind not in ("StateChange", "SessionExited"):
            return
        agent = getattr(event, "agent", None) or getattr(event, "agent_key", "") or ""
        agent = str(agent).replace("--", "/")
        new = getattr(event, "new", None)
        payload = {"type": kind, "agent": agent, "rig": agent.split("/", 1)[0] if "/" in agent else None,
                   "state": getattr(new, "value", new)}
        self.runner.notify(Change("session", events=(payload,)))
