"""Finding and signalling what sessions' programs started, for many sessions in one pass over /proc.

A session's tree is its program, the program's process group, its descendants (by parent pid), every
process still holding the session's PTY open (children that left with `setsid` or were double-forked
into init keep their stdin/stdout on it), and every process whose environment carries the session's
`GT_SESSION_ID` (daemons that also closed the PTY). Reading every process's fds costs ~15 ms; stopping 30
sessions with one scan each took 0.45 s of the event loop, so `scan` answers for any number of sessions
at once, and `Sweeper` gathers the requests of sessions that end together into one scan run in a worker
thread. Where /proc is missing, psutil's view of the descendants is used (no PTY holders there).
"""
from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from gastown_tui.sessions import procs

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def executor() -> ThreadPoolExecutor:
    """Threads for teardown work (sweeps, closing a PTY, the final transcript). Not the loop's default
    executor: that one may be busy with long jobs (git, merges) and a stop must not queue behind them."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="session-teardown")
        return _executor


KILL_PASSES = 8  # SIGKILL sweeps repeat (PASS_GAP apart) until one finds nothing: catches forks mid-kill
PASS_GAP = 0.02


@dataclasses.dataclass(frozen=True)
class Target:
    """One session's tree: its program's pid, whether that pid is still ours (not yet reaped: signalling a
    reaped pid could hit an unrelated process that got the number), its PTY slave and its session id."""
    root: int
    root_alive: bool
    tty: str | None
    session_id: str | None = None


class Table:
    """One pass over /proc: parent, process group and state of every process, and, for the ttys and
    session ids asked about, who holds the tty open and who carries the id in its environment."""

    def __init__(self, ttys: set[str], session_ids: set[str]) -> None:
        self.children: dict[int, list[int]] = {}
        self.groups: dict[int, list[int]] = {}
        self.holders: dict[str, list[int]] = {t: [] for t in ttys}
        self.carriers: dict[str, list[int]] = {s: [] for s in session_ids}
        me = os.getpid()
        markers = {f"GT_SESSION_ID={s}".encode(): s for s in session_ids}
        try:
            entries = os.listdir("/proc")
        except OSError:
            entries = []
        for entry in entries:
            if not entry.isdigit() or int(entry) == me:
                continue
            pid = int(entry)
            try:
                with open(f"/proc/{pid}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[0] in (b"Z", b"X"):  # dead: holds nothing, signals are no-ops
                continue
            self.children.setdefault(int(fields[1]), []).append(pid)
            self.groups.setdefault(int(fields[2]), []).append(pid)
            if ttys:
                self._note_tty(pid, ttys)
            if markers:
                self._note_marker(pid, markers)

    def _note_tty(self, pid: int, ttys: set[str]) -> None:
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            return
        for fd in fds:
            try:
                link = os.readlink(f"{fd_dir}/{fd}")
            except OSError:
                continue
            if link in ttys:
                self.holders[link].append(pid)
                return

    def _note_marker(self, pid: int, markers: dict[bytes, str]) -> None:
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                env = fh.read()
        except OSError:
            return
        if b"GT_SESSION_ID=" not in env:
            return
        for var in env.split(b"\0"):
            sid = markers.get(var)
            if sid is not None:
                self.carriers[sid].append(pid)
                return

    def tree(self, target: Target) -> list[int]:
        """Every live process of `target`'s tree except its root, sorted."""
        seeds = list(self.groups.get(target.root, ()))
        if target.root_alive:
            seeds += self.children.get(target.root, ())
        seeds += self.holders.get(target.tty, ()) if target.tty else ()
        seeds += self.carriers.get(target.session_id, ()) if target.session_id else ()
        found: set[int] = set()
        while seeds:
            pid = seeds.pop()
            if pid in found or pid == target.root:
                continue
            found.add(pid)
            seeds += self.children.get(pid, ())
        return sorted(found)


def scan(targets: list[Target]) -> dict[Target, list[int]]:
    """Each target's live tree (root excluded), from one pass over /proc."""
    if not os.path.isdir("/proc"):
        return {t: procs.descendants(t.root) if t.root_alive else [] for t in targets}
    table = Table({t.tty for t in targets if t.tty}, {t.session_id for t in targets if t.session_id})
    return {t: table.tree(t) for t in targets}


def _send(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def signal_trees(targets: list[Target], sig: int) -> dict[Target, list[int]]:
    """Sends `sig` to every target's tree (one /proc pass for all of them); returns the pids signalled
    besides the roots. With SIGKILL the sweep repeats until a pass finds nothing left (a process forking
    while it was killed leaves a child the first pass could not see), at most KILL_PASSES times."""
    signalled: dict[Target, list[int]] = {t: [] for t in targets}
    todo = list(targets)
    for n in range(KILL_PASSES if sig == signal.SIGKILL else 1):
        if n:
            time.sleep(PASS_GAP)
        found = scan(todo)
        for t in todo:
            if t.root_alive:
                try:
                    os.killpg(t.root, sig)
                except (ProcessLookupError, PermissionError):
                    pass
                _send(t.root, sig)
            for pid in found[t]:
                _send(pid, sig)
            signalled[t] += [p for p in found[t] if p not in signalled[t]]
        todo = [t for t in todo if found[t]]
        if not todo:
            break
    return signalled


class Sweeper:
    """Runs `signal_trees` for one event loop in a worker thread; requests made while a sweep runs (or in
    the same loop turn) share the next one, so N sessions ending together cost about one scan."""

    _by_loop: dict[asyncio.AbstractEventLoop, "Sweeper"] = {}

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue: list[tuple[Target, int, asyncio.Future]] = []
        self._task: asyncio.Task | None = None

    @classmethod
    def for_loop(cls, loop: asyncio.AbstractEventLoop) -> "Sweeper":
        sweeper = cls._by_loop.get(loop)
        if sweeper is None:
            sweeper = cls._by_loop[loop] = cls(loop)
        return sweeper

    async def signal(self, target: Target, sig: int) -> list[int]:
        fut = self._loop.create_future()
        self._queue.append((target, sig, fut))
        if self._task is None:
            self._task = self._loop.create_task(self._drain(), name="session-tree-sweeper")
        return await asyncio.shield(fut)  # a cancelled caller does not cancel the others' sweep

    async def _drain(self) -> None:
        batch: list[tuple[Target, int, asyncio.Future]] = []
        try:
            while self._queue:
                await asyncio.sleep(0)  # callers in this loop turn join the batch
                batch, self._queue = self._queue, []
                for sig in sorted({s for _, s, _ in batch}):
                    part = [(t, f) for t, s, f in batch if s == sig]
                    try:
                        targets = [t for t, _ in part]
                        found = await self._loop.run_in_executor(executor(), signal_trees, targets, sig)
                    except Exception as exc:  # e.g. the executor is shut down: the callers decide
                        for _, fut in part:
                            if not fut.done():
                                fut.set_exception(exc)
                        continue
                    for t, fut in part:
                        if not fut.done():
                            fut.set_result(found.get(t, []))
        finally:  # cancelled (the loop is shutting down): nobody may wait forever
            for _, _, fut in batch + self._queue:
                if not fut.done():
                    fut.cancel()
            self._queue = []
            self._task = None
            if self._by_loop.get(self._loop) is self:
                del self._by_loop[self._loop]
