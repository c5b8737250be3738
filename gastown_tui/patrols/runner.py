"""The patrol runner: wakes each patrol on the changes it cares about or on its timer.

    runner = PatrolRunner(town, [Deacon(...), Witness(...), ...])
    await runner.start()            # inside a running asyncio loop (the app's, or headless's)
    runner.status()                 # [PatrolStatus] for the UI: last run, next run, last decisions
    runner.subscribe(fn)            # fn(PatrolRecord) after every run (on the loop thread)
    runner.wake("refinery:gastown") # run it now
    await runner.stop()

One watchfiles watcher (two, really: flat and recursive paths) looks at the
town's ledgers, `.events.jsonl`, `mayor/`, `settings/` and `.runtime/` (not the
session transcripts). Every change is turned into a `Change` and offered to
every patrol's `concerns()`; a concerned patrol runs at once (after a short
debounce). Otherwise it runs when its timer fires: `base` seconds after a run
that did something, doubling after each idle run up to `max`.

Each run is recorded in `.events.jsonl` as a `patrol_run` event with what it saw
and did; a run that raises is recorded as `patrol_failed` with the error, the
patrol's status shows it, and the patrol runs again after its base interval (a
patrol whose loop itself dies is restarted). The runner ignores its own
`patrol_*` events, so recording a run never wakes anyone.
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Iterable

import watchfiles

from gastown_tui.patrols.base import Change, Patrol, Report, RunContext
from gastown_tui.patrols.eventlog import PATROL_EVENT_TYPES, EventTail, append_event
from gastown_tui.errors import NotFound
from gastown_tui.town.write_lock import TownWriteLock, process_write_lock

log = logging.getLogger(__name__)

IDLE, RUNNING, FAILED, STOPPED = "idle", "running", "failed", "stopped"



def _run_in_turn(patrol: Patrol, ctx: RunContext):
    """Runs the patrol holding the town's write lock (one writer per process), unless it
    takes the lock itself around its writes (`Patrol.locks_itself`)."""
    if patrol.locks_itself:
        return patrol.run(ctx)
    with ctx.write_lock:
        return patrol.run(ctx)


@dataclass
class PatrolRecord:
    """One finished run (what subscribers receive)."""

    patrol: str
    role: str
    rig: str | None
    started_at: float
    finished_at: float
    reason: str
    report: Report | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_payload(self) -> dict:
        p: dict[str, object] = {
            "patrol": self.patrol, "role": self.role, "rig": self.rig, "reason": self.reason,
            "seconds": round(self.finished_at - self.started_at, 3),
        }
        if self.report is not None:
            p["saw"] = self.report.saw
            p["did"] = [d.to_dict() for d in self.report.did]
        if self.error:
            p["error"] = self.error
        return p


@dataclass
class PatrolStatus:
    """What the UI shows for one patrol."""

    name: str
    role: str
    rig: str | None
    state: str  # idle, running, failed (last run raised), stopped
    runs: int = 0
    failures: int = 0
    last_run_at: float | None = None  # wall clock
    last_reason: str | None = None
    last_error: str | None = None
    last_decisions: list[dict] = field(default_factory=list)
    next_run_at: float | None = None  # wall clock
    interval: float | None = None


class _Slot:
    def __init__(self, patrol: Patrol):
        self.patrol = patrol
        self.wake = asyncio.Event()
        self.reasons: list[str] = []
        self.changes: list[Change] = []
        self.interval: float | None = None
        self.next_due = time.monotonic()  # first run at start
        self.task: asyncio.Task | None = None
        self.status = PatrolStatus(patrol.name, patrol.role, patrol.rig, IDLE)
        self.consecutive_failures = 0


class PatrolRunner:
    RESCAN_AFTER = 0.5  # seconds replaced watchers keep watching before the patrols look again

    def __init__(
        self,
        town: Path,
        patrols: Iterable[Patrol] = (),
        *,
        record_events: bool = True,
        debounce_ms: int = 50,
        min_gap: float = 0.2,
        clock: Callable[[], float] = time.time,
        watch: bool = True,
        run_at_start: bool = True,
        write_lock: TownWriteLock | None = None,
    ):
        self.town = Path(town)
        self.write_lock = write_lock or process_write_lock()
        self.record_events = record_events
        self.debounce_ms = debounce_ms
        self.min_gap = min_gap
        self.clock = clock
        self.watch = watch
        self.run_at_start = run_at_start
        self._slots: dict[str, _Slot] = {}
        self._pending: list[Patrol] = list(patrols)
        self._subscribers: list[Callable[[PatrolRecord], None]] = []
        self._watch_tasks: list[asyncio.Task] = []
        self._stop_event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tail: EventTail | None = None
        self._watch_signature: tuple | None = None
        self._retiring: list[asyncio.Task] = []     # replaced watchers, still watching for a moment
        # Patrol runs get threads of their own, not the loop's default executor: a run holds the write lock
        # while it waits for a session action on the loop (GUPP starting a polecat), and that action reads
        # files through the default executor. Sharing it, runs waiting for the lock could fill every one of
        # its threads (6 on a 2-core machine) and the action would wait for them: deadlocked until the
        # action's 60 s timeout. Threads are made as runs need them (at most one per patrol at a time).
        self._threads = ThreadPoolExecutor(max_workers=64, thread_name_prefix="patrol")
        self.running = False

    # ----- registry -------------------------------------------------------------------------
    def add(self, patrol: Patrol) -> None:
        """Adds a patrol (starts it at once when the runner is running). Replacing a name restarts it."""
        if not self.running:
            self._pending = [p for p in self._pending if p.name != patrol.name] + [patrol]
            return
        self._start_slot(patrol)

    def remove(self, name: str) -> None:
        slot = self._slots.pop(name, None)
        if slot and slot.task:
            slot.task.cancel()
        self._pending = [p for p in self._pending if p.name != name]

    def has(self, name: str) -> bool:
        if self.running:
            slot = self._slots.get(name)
            return bool(slot and slot.task and not slot.task.done())
        return any(p.name == name for p in self._pending)

    def patrol(self, name: str) -> Patrol | None:
        slot = self._slots.get(name)
        if slot:
            return slot.patrol
        return next((p for p in self._pending if p.name == name), None)

    def names(self) -> list[str]:
        return list(self._slots) if self.running else [p.name for p in self._pending]

    # ----- status and subscription ----------------------------------------------------------
    def status(self) -> list[PatrolStatus]:
        out = []
        for slot in self._slots.values():
            s = slot.status
            if slot.task is None or slot.task.done():
                s.state = STOPPED if not self.running else s.state
            remaining = slot.next_due - time.monotonic()
            s.next_run_at = None if s.state == STOPPED else self.clock() + max(0.0, remaining)
            s.interval = slot.interval
            out.append(s)
        return out

    def get_status(self, name: str) -> PatrolStatus | None:
        return next((s for s in self.status() if s.name == name), None)

    def subscribe(self, fn: Callable[[PatrolRecord], None]) -> Callable[[], None]:
        """Calls fn(record) after every run, on the loop thread. Returns the unsubscribe function."""
        self._subscribers.append(fn)
        return lambda: self._subscribers.remove(fn) if fn in self._subscribers else None

    def wake(self, name: str | None = None, reason: str = "manual") -> None:
        """Runs one patrol (or all) as soon as possible. Safe to call from any thread."""
        if self._loop is None:
            return
        try:
            self._loop.call_soon_threadsafe(self._wake_now, name, reason)
        except RuntimeError:
            pass  # the loop has closed: nothing runs any more

    def notify(self, change: Change) -> None:
        """Offers an outside change (e.g. a session event) to the patrols. Safe from any thread."""
        if self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(self._dispatch, [change])
            except RuntimeError:
                pass

    def _wake_now(self, name: str | None, reason: str) -> None:
        for slot in self._slots.values():
            if name is None or slot.patrol.name == name:
                slot.reasons.append(reason)
                slot.changes.append(Change("manual"))
                slot.wake.set()

    # ----- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        if self.running:
            return
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        self._tail = EventTail(self.town)
        self.running = True
        for patrol in self._pending:
            self._start_slot(patrol)
        self._pending = []
        if self.watch:
            self._start_watchers()

    async def stop(self, grace: float = 15.0) -> None:
        """Stops every patrol: runs in progress finish (up to `grace` seconds) and are recorded; no new ones start."""
        if not self.running:
            return
        self.running = False
        assert self._stop_event is not None
        self._stop_event.set()
        for t in self._watch_tasks + self._retiring:
            t.cancel()
        loops = [s.task for s in self._slots.values() if s.task]
        for slot in self._slots.values():
            slot.wake.set()  # a loop waiting for its timer sees `running` is off and ends
        if loops:
            done, pending = await asyncio.wait(loops, timeout=grace)
            for t in pending:
                t.cancel()
        await asyncio.gather(*loops, *self._watch_tasks, *self._retiring, return_exceptions=True)
        self._watch_tasks, self._retiring = [], []
        for slot in self._slots.values():
            slot.status.state = STOPPED
        self._pending = [s.patrol for s in self._slots.values()]

    async def run_once(self, name: str, reason: str = "manual") -> PatrolRecord:
        """Runs one patrol now and waits for it (the runner needs not be started)."""
        slot = self._slots.get(name) or _Slot(self.patrol(name) or _missing(name))
        return await self._run(slot, reason, [Change("manual")])

    # ----- per-patrol loop ------------------------------------------------------------------
    def _start_slot(self, patrol: Patrol) -> None:
        old = self._slots.get(patrol.name)
        if old and old.task:
            old.task.cancel()
        slot = _Slot(patrol)
        if not self.run_at_start:
            slot.interval = patrol.timer.base
            slot.next_due = time.monotonic() + patrol.timer.base
        self._slots[patrol.name] = slot
        self._spawn_loop(slot)

    def _spawn_loop(self, slot: _Slot) -> None:
        slot.task = asyncio.ensure_future(self._patrol_loop(slot))
        slot.task.add_done_callback(partial(self._loop_done, slot))

    def _loop_done(self, slot: _Slot, task: asyncio.Task) -> None:
        if task.cancelled() or not self.running or self._slots.get(slot.patrol.name) is not slot:
            return
        exc = task.exception()
        msg = f"patrol loop {slot.patrol.name} died: {exc!r}; restarting it"
        log.error(msg)
        slot.status.state, slot.status.last_error = FAILED, msg
        if self.record_events:
            append_event(self.town, "patrol_failed", slot.patrol.role, {"patrol": slot.patrol.name, "error": msg})
        slot.next_due = time.monotonic() + slot.patrol.timer.base
        self._spawn_loop(slot)

    async def _patrol_loop(self, slot: _Slot) -> None:
        while self.running:
            timeout = slot.next_due - time.monotonic()
            reason = "timer"
            if timeout > 0 and not slot.wake.is_set():
                try:
                    await asyncio.wait_for(slot.wake.wait(), timeout)
                except asyncio.TimeoutError:
                    pass
            if not self.running:
                break
            if slot.wake.is_set():
                reason = slot.reasons[0] if slot.reasons else "change"
            elif slot.status.runs == 0 and slot.status.failures == 0:
                reason = "start"
            # coalesce a burst of changes into one run
            await asyncio.sleep(self.debounce_ms / 1000)
            if not self.running:
                break
            slot.wake.clear()
            changes, slot.changes, slot.reasons = slot.changes, [], []
            record = await self._run(slot, reason, changes)
            active = bool(record.report and record.report.active) or reason not in ("timer", "start")
            if record.ok:
                slot.consecutive_failures = 0
                slot.interval = slot.patrol.timer.next(slot.interval, active)
            else:
                slot.consecutive_failures += 1
                slot.interval = min(slot.patrol.timer.max, slot.patrol.timer.base * 2 ** (slot.consecutive_failures - 1))
            wait = slot.interval
            hint = record.report.next_in if record.ok and record.report else None
            if hint is not None:  # the patrol knows when something it watches comes due
                wait = min(wait, hint)
            slot.next_due = time.monotonic() + max(wait, self.min_gap)
            if slot.wake.is_set():  # woke again while running: go round after the minimum gap
                await asyncio.sleep(self.min_gap)

    async def _run(self, slot: _Slot, reason: str, changes: list[Change]) -> PatrolRecord:
        patrol = slot.patrol
        slot.status.state = RUNNING
        started = self.clock()
        ctx = RunContext(now=started, reason=reason, changes=tuple(changes), write_lock=self.write_lock)
        report, error = None, None
        try:
            # (in a copy of this task's context, as asyncio.to_thread does: what a run starts on the loop keeps
            # the caller's context variables, e.g. the app's, in the in-process town)
            report = await asyncio.get_running_loop().run_in_executor(
                self._threads, contextvars.copy_context().run, _run_in_turn, patrol, ctx)
            if report is None:
                report = Report()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # reported and restarted, never silently dead
            error = f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_exc().splitlines(True)[-6:])
            log.error("patrol %s raised: %s", patrol.name, error)
        record = PatrolRecord(patrol.name, patrol.role, patrol.rig, started, self.clock(), reason, report, error)
        st = slot.status
        st.runs += 1
        st.last_run_at, st.last_reason = started, reason
        if error:
            st.failures += 1
            st.state, st.last_error = FAILED, error
        else:
            st.state = IDLE
            st.last_decisions = [d.to_dict() for d in report.did] if report else []
        if self.record_events:
            try:
                etype = "patrol_failed" if error else "patrol_run"
                await asyncio.to_thread(append_event, self.town, etype, patrol.role, record.to_payload(),
                                        "audit" if (not error and not (report and report.did)) else "both")
            except OSError as exc:
                log.error("could not record patrol run: %s", exc)
        for fn in list(self._subscribers):
            try:
                fn(record)
            except Exception:  # a bad subscriber must not kill the patrol
                log.exception("patrol subscriber failed")
        return record

    # ----- watching -------------------------------------------------------------------------
    def watch_paths(self) -> tuple[list[Path], list[Path]]:
        """(flat, recursive) paths to watch. Ledgers: the town's and each rig's `.beads` folders."""
        t = self.town
        flat = [t, t / ".beads", t / "mayor", t / "settings"]
        for child in sorted(t.iterdir()) if t.is_dir() else []:
            if child.is_dir() and not child.name.startswith("."):
                for cand in (child / ".beads", child / "mayor" / "rig" / ".beads", child / "settings"):
                    flat.append(cand)
        deep = [t / ".runtime"]
        return [p for p in flat if p.is_dir()], [p for p in deep if p.is_dir()]

    def _start_watchers(self) -> None:
        flat, deep = self.watch_paths()
        self._watch_signature = (tuple(flat), tuple(deep))
        for paths, recursive in ((flat, False), (deep, True)):
            if paths:
                self._watch_tasks.append(asyncio.ensure_future(self._watch(paths, recursive)))

    def _restart_watchers_if_needed(self) -> None:
        """Watches a new set of folders (a rig came or went). The new watchers take a moment to start, so
        the old ones keep watching for RESCAN_AFTER seconds (a change both see only wakes a patrol once
        more); then they go, and the patrols that read the town's configuration look again, in case
        something changed in between (a rig's registration written while the watchers were swapped)."""
        flat, deep = self.watch_paths()
        if (tuple(flat), tuple(deep)) != self._watch_signature:
            old = self._watch_tasks
            self._watch_tasks = []
            self._start_watchers()
            self._retiring.extend(old)
            asyncio.get_running_loop().call_later(self.RESCAN_AFTER, self._retire_watchers, old)

    def _retire_watchers(self, old: list[asyncio.Task]) -> None:
        for t in old:
            t.cancel()
        self._retiring = [t for t in self._retiring if t not in old]
        if self.running:
            self._dispatch([Change("config", self.town / "mayor")])

    def _watch_filter(self, change, path: str) -> bool:
        p = Path(path)
        if "sessions" in p.parts and ".runtime" in p.parts:
            return False  # transcripts change with every byte of output
        name = p.name
        return not (name.endswith((".lock", ".tmp")) or name.startswith(".tmp") or "~" in name)

    async def _watch(self, paths: list[Path], recursive: bool) -> None:
        assert self._stop_event is not None
        try:
            async for batch in watchfiles.awatch(
                *paths, watch_filter=self._watch_filter, debounce=self.debounce_ms, step=self.debounce_ms,
                stop_event=self._stop_event, recursive=recursive,
            ):
                self._dispatch(self._classify(batch))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # e.g. a watched folder vanished: look again shortly
            log.warning("watcher on %s stopped (%s); restarting", [str(p) for p in paths], exc)
            await asyncio.sleep(1.0)
            if self.running:
                self._watch_tasks = [t for t in self._watch_tasks if t is not asyncio.current_task()]
                self._watch_signature = None
                self._restart_watchers_if_needed()

    def _classify(self, batch) -> list[Change]:
        out: list[Change] = []
        rewatch = False
        for _, raw in batch:
            p = Path(raw)
            try:
                rel = p.relative_to(self.town)
            except ValueError:
                continue
            parts = rel.parts
            if rel == Path(".events.jsonl"):
                assert self._tail is not None
                new = [e for e in self._tail.read_new() if e.get("type") not in PATROL_EVENT_TYPES]
                if new:
                    out.append(Change("events", p, tuple(new)))
            elif ".beads" in parts:
                out.append(Change("ledger", p))
            elif parts and parts[0] == ".runtime":
                out.append(Change("runtime", p))
            elif parts and (parts[0] in ("mayor", "settings") or "settings" in parts):
                out.append(Change("config", p))
                rewatch = True
            elif len(parts) == 1 and p.is_dir():
                rewatch = True  # a new rig folder
        if rewatch:
            self._restart_watchers_if_needed()
        return out

    def _dispatch(self, changes: list[Change]) -> None:
        if not changes:
            return
        for slot in self._slots.values():
            mine = []
            for c in changes:
                try:
                    if slot.patrol.concerns(c):
                        mine.append(c)
                except Exception:
                    log.exception("%s.concerns failed", slot.patrol.name)
            if mine:
                slot.changes.extend(mine)
                slot.reasons.append("change")
                slot.wake.set()


def _missing(name: str) -> Patrol:
    raise NotFound(f"no patrol named {name!r}")
