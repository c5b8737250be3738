"""A session's process lifecycle: noticing the exit, stopping (quit keys, SIGTERM, SIGKILL), and making
sure nothing the program started outlives it.

`Lifecycle` is a collaborator of `Session` (sessions/session.py), which owns the PTY (sessions/pty_io.py),
the screen and the transcript; this module owns the process side, and reaches the session only through
`LifecycleHost`. `stop_all` stops many sessions at once (one task each,
one shared deadline) for the manager's `close()`.

Stop: the preset's quit keys, each once the program answered the one before; then SIGTERM, then SIGKILL,
to the whole tree (sessions/process_tree.py). When the program has exited, whatever it left behind is
SIGKILLed, the PTY closed and the transcript finished in a worker thread, and only then does `wait_exit`
return and `SessionExited` go out: the files are complete and no child is left by then. Those /proc scans
and fsyncs used to run on the event loop, one session after another, with pexpect's 0.1 s sleep in each
PTY close: quitting with 30 agents took ~4 s where one took 0.3 s.
"""
from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol

import pexpect

from gastown_tui.sessions import procs
from gastown_tui.sessions.process_tree import Sweeper, Target, executor, signal_trees
from gastown_tui.sessions.states import SessionExited

if TYPE_CHECKING:
    from gastown_tui.sessions.session import Session

log = logging.getLogger(__name__)

# Quit keys (stop()): before each further key, wait until the program answered the previous one (it drew
# something, then paused QUIT_SETTLE) or exited, at least QUIT_MIN_GAP and at most QUIT_REACTION_CAP after it.
# The cap stays well inside Claude Code's "press Ctrl-C again to exit" window (~0.8 s).
QUIT_MIN_GAP = 0.15
QUIT_SETTLE = 0.1
QUIT_REACTION_CAP = 0.5
QUIT_ROUND_WAIT = 1.5  # still running this long after the keys: they are sent once more
SIGNAL_WAIT = 2.0  # after SIGTERM, then after SIGKILL, before giving up on the process
STOP_ALL_SLACK = 4.0  # stop_all's default deadline is grace + this (quit keys, then SIGTERM's wait)
LATE_KILL_WAIT = 1.0  # after stop_all's deadline: SIGKILL, then this long for the exit to be seen


class LifecycleHost(Protocol):
    """What `Lifecycle` uses of its session, and nothing else."""

    id: str
    agent: str
    pid: int | None
    tty: str | None
    exit_status: int | None
    ended_at: float | None
    stopping: bool  # set by stop(): nothing more is typed in

    # read only (the session's properties)
    @property
    def exited(self) -> bool: ...
    @property
    def process(self) -> Any: ...  # the pexpect child, or a stand-in (nodes/remote_session.py, sessions/kept.py)
    @property
    def loop(self) -> asyncio.AbstractEventLoop | None: ...
    @property
    def input_lock(self) -> asyncio.Lock: ...  # held while a nudge is typed
    @property
    def quit_keys(self) -> tuple[str, ...]: ...
    @property
    def output_seq(self) -> int: ...
    @property
    def last_output_at(self) -> float: ...  # monotonic

    def send_key(self, key: str) -> None: ...
    def write(self, data: bytes) -> None: ...
    def isig(self) -> bool | None: ...
    def cancel_beacon(self) -> None: ...
    def finish(self, status: int) -> None: ...  # the session's teardown; it calls Lifecycle.after_exit
    def closing_job(self) -> Callable[[], None]: ...  # blocking: closes the PTY, writes the transcript
    def emit(self, event: object) -> None: ...

    # The process operations a session on a node replaces (nodes/remote_session.py); Lifecycle calls them
    # through the session so that a subclass's version is the one used.
    def _watch_pidfd(self) -> None: ...
    async def _signal_tree(self, sig: int) -> list[int]: ...
    def _reap_now(self, job: Callable[[], None]) -> None: ...


class Lifecycle:
    """The process side of one session: its exit watcher, the reaping after the exit, and stop()."""

    def __init__(self, host: LifecycleHost) -> None:
        self.host = host
        self.exited_event = asyncio.Event()  # set once the exit is announced (leftovers dead, files written)
        self.pidfd: procs.ExitWatcher | None = None  # Linux: instant exit notice
        self.reap_task: asyncio.Task | None = None  # after the exit: leftovers, PTY, transcript

    # -- exit ----------------------------------------------------------------------------------
    def check_exit(self) -> None:
        h = self.host
        proc = h.process
        if h.exited or proc is None:
            return
        try:
            alive = proc.isalive()
        except pexpect.ExceptionPexpect:
            alive = False
        if alive:
            return
        status = proc.exitstatus
        if status is None and proc.signalstatus is not None:
            status = -int(proc.signalstatus)
        h.finish(status if status is not None else -1)

    def watch_pidfd(self) -> None:
        pid, loop = self.host.pid, self.host.loop
        if pid is None or loop is None:
            raise RuntimeError(f"session {self.host.id}: no process to watch, or no loop (it has not started)")
        self.pidfd = procs.ExitWatcher.start(loop, pid, self._on_pidfd)

    def _on_pidfd(self) -> None:
        self.check_exit()
        if not self.host.exited:  # should not happen; never spin on a readable fd: fall back to polling
            self.close_pidfd()

    def close_pidfd(self) -> None:
        watcher, self.pidfd = self.pidfd, None
        if watcher is not None:
            try:
                watcher.close()
            except Exception as exc:  # the exit is seen by the reader anyway; say why the watcher failed
                log.warning("session %s: closing its exit watcher failed: %s", self.host.id, exc)

    async def wait_exit(self, timeout: float | None = None) -> int | None:
        """The exit status once the program has exited, its leftovers are dead and the transcript is
        written; None on timeout."""
        try:
            await asyncio.wait_for(self.exited_event.wait(), timeout)
        except asyncio.TimeoutError:
            return None
        return self.host.exit_status

    def announce_exit(self) -> None:
        if self.exited_event.is_set():
            return
        self.exited_event.set()
        h = self.host
        h.emit(SessionExited(h.id, h.agent, h.exit_status, time.time()))

    # -- after the exit: leftovers, PTY, transcript --------------------------------------------
    def after_exit(self) -> None:
        """Called by the session's `finish` once the status is known and the state is exited."""
        job = self._once(self.host.closing_job())
        loop = self.host.loop
        if loop is None or loop.is_closed() or not loop.is_running():
            self.host._reap_now(job)
            return
        self.reap_task = loop.create_task(self._reap(job), name=f"session-reap-{self.host.id}")

    @staticmethod
    def _once(job: Callable[[], None]) -> Callable[[], None]:
        """`job` runs once; a second caller returns only when the first run has finished. (`_reap`
        cancelled while the job runs in its thread, e.g. the loop ending, calls it again from `reap_now`:
        the exit must not be announced while the transcript is still being written.)"""
        lock = threading.Lock()
        ran: list[bool] = []

        def run() -> None:
            with lock:
                if ran:
                    return
                ran.append(True)
                job()
        return run

    async def _reap(self, job: Callable[[], None]) -> None:
        try:
            await self.host._signal_tree(signal.SIGKILL)
            await asyncio.get_running_loop().run_in_executor(executor(), job)   # the host's loop: after_exit
        except BaseException:
            self.host._reap_now(job)  # cancelled (the loop is ending) or the executor is gone: do it here
            raise
        self.announce_exit()

    def reap_now(self, job: Callable[[], None]) -> None:
        try:
            signal_trees([self.target()], signal.SIGKILL)
        finally:
            job()
            self.announce_exit()

    # -- stop ----------------------------------------------------------------------------------
    async def stop(self, grace: float = 3.0) -> int | None:
        """Polite quit keys, then SIGTERM, then SIGKILL, to the whole process tree."""
        h = self.host
        if h.process is None or h.exited:
            if h.process is not None:
                await self.exited_event.wait()  # an exit already seen: its leftovers are being killed
            return h.exit_status
        h.stopping = True
        h.cancel_beacon()  # a start-up prompt typed between the quit keys would undo them
        try:  # let a nudge being typed finish its keystrokes first (never interleave with them)
            await asyncio.wait_for(h.input_lock.acquire(), timeout=2.0)
            locked = True
        except asyncio.TimeoutError:
            locked = False
        try:
            await self._send_quit_keys()
        finally:
            if locked:
                h.input_lock.release()
        if await self.wait_exit(grace) is not None:
            return h.exit_status
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not h.exited:
                await h._signal_tree(sig)
            if await self.wait_gone(SIGNAL_WAIT):
                return h.exit_status
        self.check_exit()
        if not h.exited:
            h.finish(-int(signal.SIGKILL))
        await self.exited_event.wait()
        return h.exit_status

    async def wait_gone(self, timeout: float) -> bool:
        """Waits for the exit (checked every 0.05 s besides the pidfd) and then for the reap."""
        h = self.host
        deadline = time.monotonic() + timeout
        while not h.exited:
            self.check_exit()
            left = deadline - time.monotonic()
            if h.exited or left <= 0:
                break
            await asyncio.sleep(min(0.05, left))
        if not h.exited:
            return False
        await self.exited_event.wait()
        return True

    async def _send_quit_keys(self) -> None:
        """The preset's quit keys, each after the program answered the one before (see QUIT_*); if it is
        still running QUIT_ROUND_WAIT later, the keys once more (the first ^C may only have cleared a
        half-typed line, e.g. a start-up prompt cut off by stop()).

        A program that gave the terminal back (left raw mode: ISIG on again) is on its way out: a further
        ^C would now be a real SIGINT and kill it mid-exit (seen with opencode under load), so then no more
        keys are sent and stop() waits for the exit."""
        h = self.host
        raw_at_start = h.isig() is False
        seq, sent_at = h.output_seq, time.monotonic()
        for round_ in range(2):
            if round_:
                if await self.wait_exit(QUIT_ROUND_WAIT) is not None:
                    return
                seq, sent_at = h.output_seq, time.monotonic() - QUIT_REACTION_CAP
            for i, key in enumerate(h.quit_keys):
                if h.exited:
                    return
                if i > 0 or round_:
                    await self._await_reaction(seq, sent_at)
                    if h.exited or (raw_at_start and h.isig()):
                        return
                seq, sent_at = h.output_seq, time.monotonic()
                try:
                    h.send_key(key)
                except ValueError:
                    h.write(key.encode())

    async def _await_reaction(self, seq: int, sent_at: float) -> None:
        h = self.host
        while not h.exited:
            now = time.monotonic()
            waited = now - sent_at
            if waited >= QUIT_REACTION_CAP:
                return
            if waited >= QUIT_MIN_GAP and h.output_seq != seq and now - h.last_output_at >= QUIT_SETTLE:
                return
            await asyncio.sleep(0.02)

    # -- the process tree ----------------------------------------------------------------------
    def target(self) -> Target:
        """This session's tree. The program's own pid is signalled only while it is not reaped yet."""
        h = self.host
        reaped = h.process is None or bool(getattr(h.process, "terminated", False))
        return Target(h.pid or 0, bool(h.pid) and not reaped, h.tty, h.id)

    async def signal_tree(self, sig: int) -> list[int]:
        """`sig` to the whole tree, in a scan shared with other sessions doing the same now."""
        if not self.host.pid:
            return []
        target = self.target()
        try:
            return await Sweeper.for_loop(asyncio.get_running_loop()).signal(target, sig)
        except (asyncio.CancelledError, RuntimeError):
            signal_trees([target], sig)  # never leave the tree unsignalled, whatever happened to the sweep
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            return []

    def kill_now(self) -> None:
        """SIGKILL the tree at once (atexit / emergency); no waiting."""
        if self.host.pid and not self.host.exited:
            signal_trees([self.target()], signal.SIGKILL)


async def stop_all(sessions: Iterable["Session"], grace: float = 2.0, deadline: float | None = None) -> None:
    """Stops every live session at once (one task each); all are gone within about `deadline` seconds
    (default grace + STOP_ALL_SLACK) plus LATE_KILL_WAIT: any still running then is SIGKILLed with its tree."""
    sessions = [s for s in sessions if s.process is not None]
    live = [s for s in sessions if s.alive]
    deadline = grace + STOP_ALL_SLACK if deadline is None else deadline
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(s.stop(grace), name=f"stop-{s.agent_key}") for s in live]
    try:
        _, pending = await asyncio.wait(tasks, timeout=deadline) if tasks else (set(), set())
    except asyncio.CancelledError:  # the caller gave up: no stop goes on behind its back (it kills what is left)
        for task in tasks:
            task.cancel()
        raise
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    late = [s for s in live if not s.exited]
    if late:
        await asyncio.gather(*(s._signal_tree(signal.SIGKILL) for s in late), return_exceptions=True)
        await asyncio.gather(*(s.life.wait_gone(LATE_KILL_WAIT) for s in late), return_exceptions=True)
        for s in late:
            s.life.check_exit()
            if not s.exited:
                s.finish(-int(signal.SIGKILL))
    # Every exit seen (also before this call) has its leftovers killed and its transcript written by now.
    await asyncio.gather(*(s.wait_exit(LATE_KILL_WAIT) for s in sessions), return_exceptions=True)


def kill_all_now(sessions: Iterable["Session"]) -> None:
    """SIGKILL every live session's tree, one /proc scan for all (atexit)."""
    targets = [s.life.target() for s in sessions if s.pid and not s.exited]
    if targets:
        signal_trees(targets, signal.SIGKILL)
