"""Owns every agent session of a town: spawn, restart, stop, nudges, and cleanup.

No Textual here: events go to plain callbacks (`add_listener`) and to any number
of asyncio queues (`events()`); the app adapts them to Messages at the edge.
`close()` stops every session at once (one task each, one deadline: about as
long as the slowest one takes); an `atexit` hook SIGKILLs whatever is still
alive if the process ends without `close()`, so no child outlives the app.
"""
from __future__ import annotations

import asyncio
import atexit
import dataclasses
import datetime as _dt
import logging
import time
import weakref
from functools import partial
from pathlib import Path
from typing import Callable

from gastown_tui.sessions import nudge_queue as nq
from gastown_tui.sessions.kept import KeeperLink
from gastown_tui.sessions.lifecycle import kill_all_now, stop_all
from gastown_tui.sessions.presets import Preset, load_presets
from gastown_tui.sessions.session import Session, SessionError, SessionSpec
from gastown_tui.sessions.states import NudgeDelivered, NudgeFailed, SessionState
from gastown_tui.sessions.transcript import flush_all
from gastown_tui.town.addresses import parse_address

log = logging.getLogger(__name__)

_LIVE_MANAGERS: "weakref.WeakSet[SessionManager]" = weakref.WeakSet()
IDLE_SETTLE = 0.2  # seconds a session must stay idle before a normal nudge is typed


def _kill_all_at_exit() -> None:
    for mgr in list(_LIVE_MANAGERS):
        if mgr.keeper is not None and not mgr.keeper.broken:
            mgr.abandon()  # a keeper holds the agents: the next server adopts them
        else:
            mgr.kill_all_now()


atexit.register(_kill_all_at_exit)


class SessionExists(SessionError):
    pass


class SessionManager:
    def __init__(self, town: Path | None, presets: dict[str, Preset] | None = None, tick: float = 0.25,
                 idle_wait: float = 600.0, keeper: "KeeperLink | None | str" = "env") -> None:
        self.town = Path(town) if town else None
        self.presets = presets if presets is not None else load_presets(self.town)
        self.tick = tick
        self.idle_wait = idle_wait  # how long a normal nudge waits for the agent to be idle before failing
        self._sessions: dict[str, Session] = {}
        self._listeners: list[Callable[[object], None]] = []
        self._queues: list[asyncio.Queue] = []
        self._task: asyncio.Task | None = None
        self._deliveries: dict[str, asyncio.Task] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._closed = False
        # The keeper (server/keeper.py) that holds every agent's PTY while this process lives: by default the
        # one that started this process (GASTOWN_KEEPER_FD), if any. With one, agents outlive this process.
        if isinstance(keeper, str):
            if keeper != "env":
                raise ValueError(f"keeper: a KeeperLink, None or 'env', not {keeper!r}")
            self.keeper: KeeperLink | None = KeeperLink.from_env()
        else:
            self.keeper = keeper
        self.adopted: list[Session] = []
        self.leaving = False  # close() leaves the agents to the keeper (upgrade) instead of stopping them
        # Where an agent runs: a provider (set by the town server: gastown_tui/nodes/provider.py) may return
        # a session whose PTY is elsewhere (a node over SSH); None from it, or no provider, is a local Session.
        self.provider = None
        _LIVE_MANAGERS.add(self)

    # -- events --------------------------------------------------------------------------------
    def add_listener(self, fn: Callable[[object], None]) -> None:
        self._listeners.append(fn)

    def events(self) -> asyncio.Queue:
        """A new queue that receives every event from now on."""
        q: asyncio.Queue = asyncio.Queue()
        self._queues.append(q)
        return q

    def _emit(self, event: object) -> None:
        for fn in list(self._listeners):
            try:
                fn(event)
            except Exception:  # a bad listener must not stop the others; the log says which (townlog.py)
                log.exception("session listener %r raised on %s", fn, type(event).__name__)
        for q in self._queues:
            q.put_nowait(event)

    # -- sessions ------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._task is None:
            if self.town:
                root = self.town / ".runtime" / "nudge_queue"
                if root.is_dir():
                    for folder in root.iterdir():
                        if folder.is_dir():
                            nq.recover(folder)
            self._task = asyncio.get_running_loop().create_task(self._housekeeping(), name="session-manager")
            if self.keeper is not None:
                await self.adopt_kept()
            adopt = getattr(self.provider, "adopt", None)
            if adopt is not None:  # the programs an earlier server left running on nodes (nodes/provider.py)
                taken = {agent for agent, s in self._sessions.items() if s.alive}
                for session in await adopt(self.presets, taken, self._emit):
                    self._sessions[session.agent] = session
                    self.adopted.append(session)

    async def adopt_kept(self) -> list[Session]:
        """Takes over every agent the keeper holds (an earlier server of this town started them) before
        anything new is spawned: the same pids, PTYs, session ids and transcripts; screens rebuilt from
        the transcripts' tails. An agent whose preset is unknown here runs on the `shell` rules."""
        link = self.keeper
        if link is None:
            return []
        loop = asyncio.get_running_loop()
        kept = await loop.run_in_executor(None, link.adopt)
        link.on_exit = self._on_keeper_exit
        link.on_leave = self._on_keeper_leave
        link.attach(loop)
        adopted = []
        for k in kept:
            record = k.record
            try:
                agent = self._norm(record.get("agent", ""))
            except SessionError:
                agent = None
            if agent is None or (agent in self._sessions and self._sessions[agent].alive):
                import os

                os.close(k.fd)
                link.release(k.pid)
                continue
            spec_data = dict(record.get("spec") or {})
            name = record.get("preset")
            preset = name if isinstance(name, str) and name in self.presets else "shell"
            spec = SessionSpec(agent=agent, preset=preset, cwd=Path(spec_data.pop("cwd", None) or "."),
                               town=Path(spec_data.pop("town")) if spec_data.get("town") else self.town,
                               **{key: value for key, value in spec_data.items()
                                  if key in ("env", "argv", "beacon", "cols", "rows", "scrollback_lines", "resume",
                                             "engine") and value is not None})
            session = Session(spec, self.presets)
            session.add_listener(self._emit)
            self._sessions[agent] = session
            await session.adopt(k, link)
            adopted.append(session)
        self.adopted = adopted
        return adopted

    def _on_keeper_exit(self, pid: int, status: int) -> None:
        for session in list(self._sessions.values()):
            if session.pid == pid and not session.exited:
                session._check_exit()

    def _on_keeper_leave(self, restart: bool) -> None:
        """The keeper asks this process to go and leave the agents running (an upgrade, or the keeper being
        stopped): `close()` will abandon them instead of stopping them, and this process is asked to stop as
        on SIGTERM (the server's own clean stop: patrols, clients, socket)."""
        import os
        import signal

        self.leaving = True
        if restart and self.keeper is not None:
            self.keeper.restart()
        os.kill(os.getpid(), signal.SIGTERM)

    def abandon(self) -> None:
        """Lets this process end without stopping the agents (the keeper holds them for the next server):
        transcripts flushed, nothing killed at exit, the pexpect children not closed by their finalizers."""
        self._closed = True
        flush_all()
        for session in self._sessions.values():
            proc = session.process
            for obj in (proc, getattr(proc, "ptyproc", None)):
                if obj is not None and hasattr(obj, "closed"):
                    try:
                        obj.closed = True  # ptyprocess's __del__ would close and so kill the child
                    except AttributeError:
                        pass
        _LIVE_MANAGERS.discard(self)

    def get(self, agent: str) -> Session | None:
        return self._sessions.get(self._norm(agent))

    def sessions(self) -> list[Session]:
        return list(self._sessions.values())

    @staticmethod
    def _norm(agent: str) -> str:
        try:
            return str(parse_address(agent))
        except ValueError as exc:
            raise SessionError(str(exc)) from None

    def _lock(self, agent: str) -> asyncio.Lock:
        """One lifecycle operation (spawn, restart, stop, forget) per agent at a time, whoever calls."""
        lock = self._locks.get(agent)
        if lock is None:
            lock = self._locks[agent] = asyncio.Lock()
        return lock

    async def spawn(self, spec: SessionSpec) -> Session:
        if self._closed:
            raise SessionError("the session manager is closed")
        await self.start()
        agent = self._norm(spec.agent)
        async with self._lock(agent):
            return await self._spawn(agent, spec)

    async def _spawn(self, agent: str, spec: SessionSpec) -> Session:
        if self._closed:
            raise SessionError("the session manager is closed")
        old = self._sessions.get(agent)
        if old is not None and old.alive:
            raise SessionExists(f"{agent} already has a live session ({old.id}, pid {old.pid}); stop or restart it")
        if spec.town is None and self.town is not None:
            spec = dataclasses.replace(spec, town=self.town)
        if self.provider is not None and hasattr(self.provider, "settle"):
            await self.provider.settle(spec)  # a sling still placing this agent on a node: wait for where it runs
        remote = self.provider.session_for(spec, self.presets) if self.provider is not None else None
        session = remote or Session(spec, self.presets)
        session.keeper = self.keeper if self.keeper is not None and not self.keeper.broken else None
        session.add_listener(self._emit)
        self._sessions[agent] = session
        if old is not None:
            old.remove_listener(self._emit)  # its exit was reported; nothing more from it
        try:
            await session.start()
        except BaseException:
            # Nothing started (e.g. a node's link down): no half-made session stays behind to look like
            # a dead one, so the patrols see "no session" and start it again.
            if self._sessions.get(agent) is session:
                del self._sessions[agent]
            session.remove_listener(self._emit)
            raise
        return session

    async def restart(self, agent: str, resume: bool = False, beacon: str | None = None) -> Session:
        """A fresh session with the same identity, spec and hook; the old transcript stays on disk.

        Serialized per agent: two restarts at once give two restarts one after the other, never two
        live sessions."""
        agent = self._norm(agent)
        async with self._lock(agent):
            old = self._sessions.get(agent)
            if old is None:
                raise SessionError(f"no session for {agent} to restart")
            await self._stop(old)
            spec = dataclasses.replace(old.spec, resume=resume and old.preset.resume_argv is not None,
                                       beacon=beacon if beacon is not None else old.spec.beacon)
            return await self._spawn(agent, spec)

    async def _stop(self, session: Session, grace: float = 3.0) -> int | None:
        task = self._deliveries.pop(session.agent, None)
        if task:
            task.cancel()
        return await session.stop(grace)

    async def forget(self, agent: str, grace: float = 3.0) -> int | None:
        """Stops AGENT's session if it is alive and drops it: `get(agent)` is None afterwards (a reaped
        polecat whose name a new one may take). Its transcript stays on disk. No session: None."""
        agent = self._norm(agent)
        async with self._lock(agent):
            session = self._sessions.get(agent)
            if session is None:
                return None
            status = await self._stop(session, grace)
            if self._sessions.get(agent) is session:
                del self._sessions[agent]
            session.remove_listener(self._emit)
            return status

    async def stop(self, agent: str, grace: float = 3.0) -> int | None:
        agent = self._norm(agent)
        async with self._lock(agent):
            session = self._sessions.get(agent)
            if session is None:
                raise SessionError(f"no session for {agent}")
            return await self._stop(session, grace)

    async def close(self, grace: float = 2.0, deadline: float | None = None) -> None:
        """Stops every session and the housekeeping; leaves no child process. The sessions stop
        concurrently (quit keys, SIGTERM, SIGKILL each); any still running after `deadline` seconds
        (default grace + 4) is SIGKILLed with its tree."""
        self._closed = True
        for task in self._deliveries.values():
            task.cancel()
        self._deliveries.clear()
        if self.leaving and self.keeper is not None and not self.keeper.broken:
            if self._task is not None:
                self._task.cancel()
                self._task = None
            self.abandon()  # the keeper holds the agents for the next server
            self.keeper.detach()
            return
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None
        try:
            await stop_all(list(self._sessions.values()), grace, deadline)
        finally:
            kill_all_now(self._sessions.values())  # only sessions not seen exiting (e.g. close() cancelled)
            _LIVE_MANAGERS.discard(self)
            if self.keeper is not None:
                self.keeper.stop()  # the town is stopped: the keeper ends with this process
                self.keeper.detach()

    def kill_all_now(self) -> None:
        kill_all_now(list(self._sessions.values()))

    # -- nudges --------------------------------------------------------------------------------
    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            if self.town is None:
                continue
            for agent, session in list(self._sessions.items()):
                if not session.alive or agent in self._deliveries:
                    continue
                if nq.pending(nq.queue_dir(self.town, session.agent_key)):
                    task = asyncio.get_running_loop().create_task(self._deliver(session, self.town))
                    self._deliveries[agent] = task
                    task.add_done_callback(partial(self._delivered, agent))

    def _delivered(self, agent: str, task: asyncio.Task) -> None:
        if self._deliveries.get(agent) is task:
            self._deliveries.pop(agent, None)

    async def _deliver(self, session: Session, town: Path) -> None:
        folder = nq.queue_dir(town, session.agent_key)
        while session.alive:
            files = nq.pending(folder)
            if not files:
                return
            # Urgent nudges jump the queue; the rest go oldest first.
            path = next((p for p in files if nq.peek_urgent(p)), files[0])
            try:
                nudge = nq.claim(path)
            except nq.BadNudge as exc:
                self._emit(NudgeFailed(session.agent, "", "", str(exc), time.time(), str(path)))
                continue
            if nudge is None:
                continue
            try:
                if not nudge.urgent:
                    ready = await self._wait_idle(session, folder)
                    if not session.alive or ready is None:  # gone, or an urgent nudge arrived: back in line
                        nq.release(nudge)
                        if not session.alive:
                            return
                        continue
                    if not ready:
                        self._fail(session, nudge, f"{session.agent} was not idle for {self.idle_wait:g}s "
                                                   f"(state {session.state}: {session.state_detail})")
                        continue
                if nudge.expires_at is not None and nudge.expired(time.time()):
                    when = _dt.datetime.fromtimestamp(nudge.expires_at, _dt.timezone.utc).isoformat(timespec="seconds")
                    self._fail(session, nudge, f"expired at {when} before {session.agent} was idle "
                                               f"(state {session.state}: {session.state_detail})")
                    continue
                result = await session.submit(nudge.text)
            except asyncio.CancelledError:
                if nudge.path.exists():
                    nq.release(nudge)
                raise
            if result.submitted:
                nq.done(nudge, session.id, result.enters)
                self._emit(NudgeDelivered(session.agent, session.id, nudge.message, nudge.sender, result.enters,
                                          time.time(), nudge.path.name))
            elif not session.alive or session.stopping:  # going away: the nudge waits for the next session
                nq.release(nudge)
                return
            else:
                self._fail(session, nudge, result.reason)

    async def _wait_idle(self, session: Session, folder: Path) -> bool | None:
        """True once idle, False after `idle_wait`, None if the session went away or an urgent nudge
        arrived meanwhile (urgent ones do not wait behind a normal one)."""
        deadline = time.monotonic() + self.idle_wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if await session.wait_state({SessionState.IDLE}, timeout=min(0.5, left)):
                if not session.alive:
                    return None
                # Idle twice, IDLE_SETTLE apart: a gap between two tool calls is not a turn's end.
                await asyncio.sleep(IDLE_SETTLE)
                if session.state is SessionState.IDLE:
                    return True
                continue
            if not session.alive or any(nq.peek_urgent(p) for p in nq.pending(folder)):
                return None

    def _fail(self, session: Session, nudge: nq.QueuedNudge, reason: str) -> None:
        target = nq.give_up(nudge.path, reason)
        self._emit(NudgeFailed(session.agent, nudge.message, nudge.sender, reason, time.time(), str(target)))
