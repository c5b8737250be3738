"""A session's process lifecycle: noticing the exit, stopping (quit keys, SIGTERM, SIGKILL), and making
sure nothing the program started outlives it.

`Lifecycle` is mixed into `Session` (sessions/session.py), which owns the PTY, the screen and the
transcript; this module owns the process side. `stop_all` stops many sessions at once (one task each,
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
import termios
import threading
import time
from typing import Callable, Iterable

import pexpect

from gastown_tui.sessions import procs
from gastown_tui.sessions.process_tree import Sweeper, Target, executor, signal_trees

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


class Lifecycle:
    """The process side of a Session. Uses the session's `pid`, `tty`, `id`, `preset.quit_keys`,
    `output_seq`, `last_output_at`, `send_key`/`write`, `_proc`, `_fd`, `_eof`, `_loop`, `_input_lock`,
    `_beacon_task`, `_exited`, `_finish(status)` (the session's teardown, which calls `_after_exit`),
    `_closing_job()` (a blocking job that closes the PTY and writes the final transcript) and
    `_announce_exit()` (SessionExited)."""

    exit_status: int | None
    ended_at: float | None

    # -- exit ----------------------------------------------------------------------------------
    @property
    def exited(self) -> bool:
        return self.exit_status is not None or self.ended_at is not None

    @property
    def alive(self) -> bool:
        return self._proc is not None and not self.exited

    def _check_exit(self) -> None:
        if self.exited or self._proc is None:
            return
        try:
            alive = self._proc.isalive()
        except pexpect.ExceptionPexpect:
            alive = False
        if alive:
            return
        status = self._proc.exitstatus
        if status is None and self._proc.signalstatus is not None:
            status = -int(self._proc.signalstatus)
        self._finish(status if status is not None else -1)

    def _watch_pidfd(self) -> None:
        self._pidfd = procs.ExitWatcher.start(self._loop, self.pid, self._on_pidfd)

    def _on_pidfd(self) -> None:
        self._check_exit()
        if not self.exited:  # should not happen; never spin on a readable fd: fall back to polling
            self._close_pidfd()

    def _close_pidfd(self) -> None:
        watcher, self._pidfd = self._pidfd, None
        if watcher is not None:
            try:
                watcher.close()
            except Exception as exc:  # the exit is seen by the reader anyway; say why the watcher failed
                log.warning("session %s: closing its exit watcher failed: %s", self.id, exc)

    async def wait_exit(self, timeout: float | None = None) -> int | None:
        """The exit status once the program has exited, its leftovers are dead and the transcript is
        written; None on timeout."""
        try:
            await asyncio.wait_for(self._exited.wait(), timeout)
        except asyncio.TimeoutError:
            return None
        return self.exit_status

    # -- after the exit: leftovers, PTY, transcript --------------------------------------------
    def _after_exit(self) -> None:
        """Called by `_finish` once the status is known and the state is exited."""
        job = self._once(self._closing_job())
        loop = self._loop
        if loop is None or loop.is_closed() or not loop.is_running():
            self._reap_now(job)
            return
        self._reap_task = loop.create_task(self._reap(job), name=f"session-reap-{self.id}")

    @staticmethod
    def _once(job: Callable[[], None]) -> Callable[[], None]:
        """`job` runs once; a second caller returns only when the first run has finished. (`_reap`
        cancelled while the job runs in its thread, e.g. the loop ending, calls it again from `_reap_now`:
        the exit must not be announced while the transcript is still being written.)"""
        lock, ran = threading.Lock(), []

        def run() -> None:
            with lock:
                if ran:
                    return
                ran.append(True)
                job()
        return run

    async def _reap(self, job: Callable[[], None]) -> None:
        try:
            await self._signal_tree(signal.SIGKILL)
            await self._loop.run_in_executor(executor(), job)
        except BaseException:
            self._reap_now(job)  # cancelled (the loop is ending) or the executor is gone: do it here
            raise
        self._announce_exit()

    def _reap_now(self, job: Callable[[], None]) -> None:
        try:
            signal_trees([self._target()], signal.SIGKILL)
        finally:
            job()
            self._announce_exit()

    # -- stop ----------------------------------------------------------------------------------
    async def stop(self, grace: float = 3.0) -> int | None:
        """Polite quit keys, then SIGTERM, then SIGKILL, to the whole process tree."""
        if self._proc is None or self.exited:
            if self._proc is not None:
                await self._exited.wait()  # an exit already seen: its leftovers are being killed
            return self.exit_status
        self.stopping = True
        if self._beacon_task is not None and not self._beacon_task.done():
            self._beacon_task.cancel()  # a start-up prompt typed between the quit keys would undo them
        try:  # let a nudge being typed finish its keystrokes first (never interleave with them)
            await asyncio.wait_for(self._input_lock.acquire(), timeout=2.0)
            locked = True
        except asyncio.TimeoutError:
            locked = False
        try:
            await self._send_quit_keys()
        finally:
            if locked:
                self._input_lock.release()
        if await self.wait_exit(grace) is not None:
            return self.exit_status
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not self.exited:
                await self._signal_tree(sig)
            if await self._wait_gone(SIGNAL_WAIT):
                return self.exit_status
        self._check_exit()
        if not self.exited:
            self._finish(-int(signal.SIGKILL))
        await self._exited.wait()
        return self.exit_status

    async def _wait_gone(self, timeout: float) -> bool:
        """Waits for the exit (checked every 0.05 s besides the pidfd) and then for the reap."""
        deadline = time.monotonic() + timeout
        while not self.exited:
            self._check_exit()
            left = deadline - time.monotonic()
            if self.exited or left <= 0:
                break
            await asyncio.sleep(min(0.05, left))
        if not self.exited:
            return False
        await self._exited.wait()
        return True

    async def _send_quit_keys(self) -> None:
        """The preset's quit keys, each after the program answered the one before (see QUIT_*); if it is
        still running QUIT_ROUND_WAIT later, the keys once more (the first ^C may only have cleared a
        half-typed line, e.g. a start-up prompt cut off by stop()).

        A program that gave the terminal back (left raw mode: ISIG on again) is on its way out: a further
        ^C would now be a real SIGINT and kill it mid-exit (seen with opencode under load), so then no more
        keys are sent and stop() waits for the exit."""
        raw_at_start = self._isig() is False
        seq, sent_at = self.output_seq, time.monotonic()
        for round_ in range(2):
            if round_:
                if await self.wait_exit(QUIT_ROUND_WAIT) is not None:
                    return
                seq, sent_at = self.output_seq, time.monotonic() - QUIT_REACTION_CAP
            for i, key in enumerate(self.preset.quit_keys):
                if self.exited:
                    return
                if i > 0 or round_:
                    await self._await_reaction(seq, sent_at)
                    if self.exited or (raw_at_start and self._isig()):
                        return
                seq, sent_at = self.output_seq, time.monotonic()
                try:
                    self.send_key(key)
                except ValueError:
                    self.write(key.encode())

    async def _await_reaction(self, seq: int, sent_at: float) -> None:
        while not self.exited:
            now = time.monotonic()
            waited = now - sent_at
            if waited >= QUIT_REACTION_CAP:
                return
            if waited >= QUIT_MIN_GAP and self.output_seq != seq and now - self.last_output_at >= QUIT_SETTLE:
                return
            await asyncio.sleep(0.02)

    def _isig(self) -> bool | None:
        """Whether the PTY turns ^C into SIGINT now (False: the program put it in raw mode); None if unknown."""
        if self._fd is None or self._eof:
            return None
        try:
            return bool(termios.tcgetattr(self._fd)[3] & termios.ISIG)
        except (termios.error, OSError):
            return None

    # -- the process tree ----------------------------------------------------------------------
    def _target(self) -> Target:
        """This session's tree. The program's own pid is signalled only while it is not reaped yet."""
        reaped = self._proc is None or bool(getattr(self._proc, "terminated", False))
        return Target(self.pid or 0, bool(self.pid) and not reaped, self.tty, self.id)

    async def _signal_tree(self, sig: int) -> list[int]:
        """`sig` to the whole tree, in a scan shared with other sessions doing the same now."""
        if not self.pid:
            return []
        target = self._target()
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
        if self.pid and not self.exited:
            signal_trees([self._target()], signal.SIGKILL)


async def stop_all(sessions: Iterable[Lifecycle], grace: float = 2.0, deadline: float | None = None) -> None:
    """Stops every live session at once (one task each); all are gone within about `deadline` seconds
    (default grace + STOP_ALL_SLACK) plus LATE_KILL_WAIT: any still running then is SIGKILLed with its tree."""
    sessions = [s for s in sessions if s._proc is not None]
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
        await asyncio.gather(*(s._wait_gone(LATE_KILL_WAIT) for s in late), return_exceptions=True)
        for s in late:
            s._check_exit()
            if not s.exited:
                s._finish(-int(signal.SIGKILL))
    # Every exit seen (also before this call) has its leftovers killed and its transcript written by now.
    await asyncio.gather(*(s.wait_exit(LATE_KILL_WAIT) for s in sessions), return_exceptions=True)


def kill_all_now(sessions: Iterable[Lifecycle]) -> None:
    """SIGKILL every live session's tree, one /proc scan for all (atexit)."""
    targets = [s._target() for s in sessions if s.pid and not s.exited]
    if targets:
        signal_trees(targets, signal.SIGKILL)
