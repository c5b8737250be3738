"""Carries out the patrols' decisions: one method per decision kind.

Patrols run in worker threads; anything that touches sessions is handed to the
session manager's event loop and waited for. A decision that cannot be carried
out is marked `done=False` with the error in its detail (and so shows in the
patrol's run event) rather than raising: the next run will see the same
situation and try again.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

from gastown_tui.patrols.base import Decision
from gastown_tui.town.layout import Town
from gastown_tui.town.seance import running_session
from gastown_tui.patrols.escalate import escalate, route
from gastown_tui.patrols.gupp import beacon
from gastown_tui.town.addresses import parse_address, rig_worker
from gastown_tui.town.agents import environment, workdir
from gastown_tui.town.budget import refusal_for_agent
from gastown_tui.town.convoys import land_ready_convoys
from gastown_tui.town.events import append_event
from gastown_tui.town.handoff import consume_handoff, pending_handoff
from gastown_tui.town.jsonfile import write_json
from gastown_tui.town.nudges import enqueue
from gastown_tui.town.polecats import reap_blockers, reap_polecat
from gastown_tui.town.ralph import successor_topic, with_failure
from gastown_tui.town.rigs import get_rig
from gastown_tui.town.settings import TownSettings
from gastown_tui.town.sling import sling

log = logging.getLogger(__name__)



def live_session_elsewhere(town: Town, address: str) -> str | None:
    """ADDRESS's session still running per its meta.json (another process owns it), described; or None."""
    s = running_session(town, address)
    if s is None:
        return None
    return (f"its session {s.session_id} (pid {s.pid}) is still running in another "
            "process: stop it there, or let that town's Witness reap it")

class NoSessions(RuntimeError):
    pass



def _bead_of(d: Decision) -> str:
    if d.bead is None:
        raise ValueError(f"a {d.kind} decision for {d.target or '?'} names no bead")
    return d.bead

class Actions:
    def __init__(self, town: Town, sessions=None, loop: asyncio.AbstractEventLoop | None = None,
                 wake: Callable[[str], None] | None = None,
                 ensure_patrol: Callable[[str], None] | None = None,
                 restart_deacon: Callable[[], None] | None = None, sling_fn: Callable | None = None):
        self.town = town
        self.sling_fn = sling_fn or sling  # the town server passes one that places polecats on nodes
        self.sessions = sessions
        self.loop = loop
        self.wake = wake or (lambda name: None)
        self.ensure_patrol = ensure_patrol
        self.restart_deacon = restart_deacon
        self._locks: dict[str, asyncio.Lock] = {}

    def agent_lock(self, address: str) -> asyncio.Lock:
        """A look-then-act sequence per agent (get the session, then start/restart/stop it) runs alone (use on
        the loop). The manager serializes each of its own calls; this keeps two patrols from both deciding
        from the same look (e.g. GUPP and the Witness both restarting one dead polecat)."""
        lock = self._locks.get(address)
        if lock is None:
            lock = self._locks[address] = asyncio.Lock()
        return lock

    def apply(self, d: Decision, actor: str) -> Decision:
        method = getattr(self, f"do_{d.kind}", None)
        try:
            if method is None:
                raise NotImplementedError(f"no action for decision kind {d.kind!r}")
            if d.kind in ("start", "restart") and self._budget_refuses(d):
                return d
            method(d, actor)
        except Exception as exc:
            d.done = False
            d.detail["error"] = f"{type(exc).__name__}: {exc}"
            log.warning("%s could not %s %s: %s", actor, d.kind, d.target, exc)
        return d

    def _budget_refuses(self, d: Decision) -> bool:
        """A tripped budget breaker covering the agent: no session is started (town/budget.py)."""
        why = refusal_for_agent(self.town, d.target)
        if why:
            d.done = False
            d.detail["refused"] = why
        return bool(why)

    # ------------------------------------------------------------------ sessions
    def _await(self, coro_fn, timeout: float = 60.0):
        if self.sessions is None or self.loop is None:
            raise NoSessions("no session manager runs in this process")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            raise RuntimeError("session actions must be called from a worker thread, not the event loop")
        return asyncio.run_coroutine_threadsafe(coro_fn(), self.loop).result(timeout)

    def _spec(self, address: str, beacon: str | None):
        # Deferred: sessions.session loads pexpect and psutil; `gastown polecat reap`
        # builds Actions without a session manager and never spawns.
        from gastown_tui.sessions.session import SessionSpec

        a = parse_address(address)
        settings = TownSettings.load(self.town.settings_path)
        rig_settings = get_rig(self.town, a.rig).settings if a.rig else None
        preset = settings.agent_for(a.role, rig_settings, a.name)
        cwd = workdir(self.town, address)
        if cwd is None or not cwd.exists():
            raise FileNotFoundError(f"{address} has no workspace at {cwd}")
        env = environment(self.town, address)
        return SessionSpec(agent=address, preset=preset, cwd=cwd, town=self.town.root, env=env, beacon=beacon)

    def do_start(self, d: Decision, actor: str) -> None:
        beacon = d.detail.get("beacon")
        address = d.target

        async def go():
            async with self.agent_lock(address):
                existing = self.sessions.get(address)
                if existing is not None and existing.alive:
                    return "already running"
                if existing is not None:
                    await self.sessions.restart(address, beacon=beacon)
                    return "restarted"
                await self.sessions.spawn(self._spec(address, beacon))
                return "started"

        d.detail["result"] = self._await(go)

    def do_restart(self, d: Decision, actor: str) -> None:
        address = d.target

        async def go():
            import time

            async with self.agent_lock(address):
                existing = self.sessions.get(address)
                text = beacon(address, address.split("/", 1)[0], actor, time.time(), topic="restart")
                if existing is None:
                    await self.sessions.spawn(self._spec(address, text))
                    return "started"
                if existing.alive and d.detail.get("why") == "dead":
                    return "already running again"  # someone restarted it since the decision
                await self.sessions.restart(address, beacon=text)
                return "restarted"

        d.detail["result"] = self._await(go)

    def do_handoff(self, d: Decision, actor: str) -> None:
        """Replaces a session that ran `gt handoff`: stop it politely (transcript kept), consume the marker,
        start a fresh session for the same identity with the start-up beacon, log `session_replaced`.
        If the fresh session cannot start, the marker is put back so the next run tries again."""
        import time


        address = d.target
        rig = parse_address(address).rig
        requested_at = d.detail.get("requested_at")
        reason = ["handoff"]

        async def go():
            async with self.agent_lock(address):
                old = self.sessions.get(address)
                if old is None:
                    raise RuntimeError(f"no session for {address} to replace")
                status = await self.sessions.stop(address) if old.alive else old.exit_status
                marker = pending_handoff(self.town, address)
                consume_handoff(self.town, address, requested_at)
                text = beacon(address, rig, address, time.time(), topic="handoff")
                reason[0] = (marker or {}).get("reason") or "handoff"
                if reason[0] == "ralph" and marker is not None:     # a Ralph retry: the prompt names the attempt and the last failure
                    text = with_failure(beacon(address, rig, "ralph", time.time(), topic=successor_topic(marker)),
                                        marker)
                try:
                    new = await self.sessions.restart(address, beacon=text)
                except Exception:
                    if marker is not None and pending_handoff(self.town, address) is None:
                        write_json(self.town.runtime / "handoffs" / f"{old.agent_key}.json", marker)
                    raise
                return old.id, status, new.id

        old_id, status, new_id = self._await(go, timeout=90.0)
        d.detail.update(old_session=old_id, old_exit_status=status, new_session=new_id)
        append_event(self.town.events_path, "session_replaced", actor, agent=address, reason=reason[0],
                     old_session=old_id, new_session=new_id, exit_status=status, mail=d.detail.get("mail"),
                     hook=d.bead)

    def do_stop_session(self, d: Decision, actor: str) -> None:
        async def go():
            async with self.agent_lock(d.target):
                s = self.sessions.get(d.target)
                if s is not None and s.alive:
                    await self.sessions.stop(d.target)

        self._await(go)

    def do_reap(self, d: Decision, actor: str) -> None:
        """Reaps a finished polecat (see town.polecats.reap_polecat): checks first, then stops and forgets its
        session (only one that is idle or gone), then removes worktree, branch and hook. Refusals change nothing."""
        rig, name = rig_worker(d.target)
        blockers = reap_blockers(self.town, rig, name)
        if blockers:
            d.done = False
            d.detail.update(refused=blockers, error="refused: " + "; ".join(blockers))
            return
        if self.sessions is None:  # `gastown polecat reap`: a session another process runs is not ours to stop
            live = live_session_elsewhere(self.town, d.target)
            if live:
                d.done = False
                d.detail.update(refused=[live], error=f"refused: {live}")
                return
        else:
            async def stop():
                async with self.agent_lock(d.target):
                    s = self.sessions.get(d.target)
                    if s is not None and s.alive and getattr(s.state, "value", s.state) != "idle":
                        return f"its session became {getattr(s.state, 'value', s.state)}"
                    if s is not None:
                        await self.sessions.forget(d.target)
                    return None

            busy = self._await(stop)
            if busy:
                d.done = False
                d.detail.update(refused=[busy], error=f"refused: {busy}", retry="soon")
                return
        cat = reap_polecat(self.town, rig, name, actor=actor)
        d.detail["freed_name"] = cat.name

    def do_nudge(self, d: Decision, actor: str) -> None:
        urgent = d.detail.get("why") == "stalled" or actor.endswith("/witness")
        path = enqueue(self.town.runtime / "nudge_queue", d.target, d.detail.get("message") or d.reason,
                       sender=actor, urgent=urgent)
        d.detail["queued"] = path.name

    # ------------------------------------------------------------------ ledger
    def do_escalate(self, d: Decision, actor: str) -> None:
        if "escalation" in d.detail:
            return  # the Refinery already filed it
        agent = d.detail.get("agent", "")
        d.detail["escalation"] = escalate(self.town, d.reason.splitlines()[0][:120], d.reason, source=actor,
                                          severity="high", related=d.bead or None)
        if agent:
            d.detail["agent"] = agent

    def do_route_escalation(self, d: Decision, actor: str) -> None:
        route(self.town, _bead_of(d), actor=actor)

    def do_sling(self, d: Decision, actor: str) -> None:
        result = self.sling_fn(self.town, _bead_of(d), d.target, no_convoy=True, actor=actor)
        d.detail["agent"] = result.agent
        self.wake("gupp")

    def do_land_convoy(self, d: Decision, actor: str) -> None:
        d.detail["landed"] = land_ready_convoys(self.town, actor=actor)

    # ------------------------------------------------------------------ patrols
    def do_check_mr(self, d: Decision, actor: str) -> None:
        rig = d.target.split("/", 1)[0]
        self.wake(f"refinery:{rig}")

    def do_ensure_patrol(self, d: Decision, actor: str) -> None:
        if self.ensure_patrol is None:
            raise RuntimeError("this runner cannot add patrols")
        self.ensure_patrol(d.target)

    def do_wake_deacon(self, d: Decision, actor: str) -> None:
        self.wake("deacon")

    def do_restart_deacon(self, d: Decision, actor: str) -> None:
        if self.restart_deacon is None:
            raise RuntimeError("this runner cannot restart the Deacon")
        self.restart_deacon()
