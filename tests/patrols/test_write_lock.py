"""The one-writer rule (gastown_tui/town/write_lock.py): patrol runs and the operator's writes take
turns on the runtime's TownWriteLock; the Refinery's gate runs outside it."""
from __future__ import annotations

import asyncio
import sys
import threading
import time

from gastown_tui.patrols.base import Patrol, Report, RunContext, Timer
from gastown_tui.patrols.refinery import Refinery
from gastown_tui.patrols.runner import PatrolRunner
from gastown_tui.town.write_lock import TownWriteLock
from waiting import until

from .townkit import make_town, submit


class Blocking(Patrol):
    """A patrol whose run waits for the test to let it go."""

    def __init__(self, locks_itself: bool = False):
        self.name, self.role, self.timer = "blocking", "test", Timer(300, 300)
        self.locks_itself = locks_itself
        self.entered = threading.Event()
        self.go = threading.Event()

    def run(self, ctx):
        self.entered.set()
        self.go.wait(60)
        return Report()


def other_thread_can_take(lock: TownWriteLock) -> bool:
    """Whether a thread other than the caller gets the lock at once (then gives it back)."""
    got = []

    def probe():
        ok = lock.acquire(timeout=0)
        got.append(ok)
        if ok:
            lock.release()

    t = threading.Thread(target=probe)
    t.start()
    t.join(30)
    return got == [True]


async def test_a_patrol_run_holds_the_runtime_lock_and_a_writer_waits_for_it(tmp_path):
    (tmp_path / ".runtime").mkdir()
    lock = TownWriteLock()
    patrol = Blocking()
    runner = PatrolRunner(tmp_path, [patrol], watch=False, record_events=False, write_lock=lock)
    await runner.start()
    try:
        assert await until(patrol.entered.is_set)
        assert not other_thread_can_take(lock), "an operator's write could interleave with a patrol run"
        patrol.go.set()
        assert await until(lambda: runner.get_status("blocking").runs == 1)
        assert other_thread_can_take(lock)
    finally:
        patrol.go.set()
        await runner.stop()


async def test_a_patrol_that_locks_itself_runs_without_the_lock(tmp_path):
    (tmp_path / ".runtime").mkdir()
    lock = TownWriteLock()
    patrol = Blocking(locks_itself=True)
    runner = PatrolRunner(tmp_path, [patrol], watch=False, record_events=False, write_lock=lock)
    await runner.start()
    try:
        assert await until(patrol.entered.is_set)
        assert other_thread_can_take(lock)
    finally:
        patrol.go.set()
        await runner.stop()


async def test_the_refinery_gate_runs_outside_the_lock_and_the_merge_lands(tmp_path):
    """While the gate runs (minutes, in real towns) the operator can still approve or send back."""
    started, release = tmp_path / "gate-started", tmp_path / "gate-go"
    wait = (f"import pathlib, time; pathlib.Path({str(started)!r}).touch(); "
            f"[time.sleep(0.02) for _ in range(3000) if not pathlib.Path({str(release)!r}).exists()]")
    gate = f"{sys.executable} -c \"{wait}\""
    town, rig = make_town(tmp_path, merge_queue={"gate": gate})
    mr, _, _ = submit(town, rig, "add a", {"textkit/a.py": "A = 1\n"})
    lock = TownWriteLock()
    refinery = Refinery(town, rig.name)
    run = asyncio.create_task(asyncio.to_thread(refinery.run, RunContext(time.time(), "manual", write_lock=lock)))
    try:
        assert await until(started.exists, timeout=120)
        assert other_thread_can_take(lock), "the Refinery held the town's write lock through its gate"
    finally:
        release.touch()
    report = await run
    assert [d.kind for d in report.did] == ["merge"]
