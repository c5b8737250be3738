"""The patrol runner: wake on change, timers with backoff, events for every run, restart after a crash."""
from __future__ import annotations

import asyncio
import contextvars
import json
import time

import pytest

from gastown_tui.patrols.base import Decision, Patrol, Report, Timer
from gastown_tui.patrols.runner import PatrolRunner
from waiting import until as wait_for


class Counter(Patrol):
    def __init__(self, name="counter", timer=Timer(30, 300), kinds=("ledger",), act=False, fail_first=0):
        self.name, self.role, self.timer = name, "test", timer
        self.kinds, self.act, self.fail_first = kinds, act, fail_first
        self.runs: list[tuple[float, str]] = []
        self.changes: list = []  # every Change a run was handed

    def concerns(self, change):
        return change.kind in self.kinds

    def run(self, ctx):
        self.runs.append((time.monotonic(), ctx.reason))
        self.changes.extend(ctx.changes)
        if len(self.runs) <= self.fail_first:
            raise RuntimeError(f"boom {len(self.runs)}")
        return Report(saw={"n": len(self.runs)}, did=[Decision("noted", "x", "because")] if self.act else [])


def make_town(tmp_path):
    (tmp_path / ".beads").mkdir()
    (tmp_path / ".beads" / "issues.jsonl").write_text("")
    (tmp_path / ".runtime").mkdir()
    (tmp_path / ".events.jsonl").write_text("")
    return tmp_path


def events(town):
    return [json.loads(l) for l in (town / ".events.jsonl").read_text().splitlines() if l.strip()]


async def watchers_up(town, probe: Counter) -> None:
    """Waits until the runner's file watchers see changes: touches `.runtime/probe` until PROBE (a
    patrol concerned with `.runtime/` changes) has run for one. No fixed pause: on a loaded machine
    the watchers may take seconds to start."""
    before = len(probe.runs)
    for n in range(300):
        (town / ".runtime" / "probe").write_text(str(n))
        try:
            await wait_for(lambda: len(probe.runs) > before, timeout=0.2)
            return
        except AssertionError:
            continue  # not up yet: touch it again
    raise AssertionError("the runner's watchers never reported a change in .runtime/")


async def test_a_ledger_change_wakes_the_concerned_patrol_within_a_second(tmp_path):
    town = make_town(tmp_path)
    ledger_patrol, other = Counter("ledger-watcher"), Counter("runtime-watcher", kinds=("runtime",))
    runner = PatrolRunner(town, [ledger_patrol, other])
    await runner.start()
    try:
        assert await wait_for(lambda: len(ledger_patrol.runs) == 1 and len(other.runs) == 1)  # start-up run
        await watchers_up(town, other)
        t0 = time.monotonic()
        with open(town / ".beads" / "issues.jsonl", "a") as f:
            f.write('{"id":"gt-1"}\n')
        assert await wait_for(lambda: len(ledger_patrol.runs) == 2, timeout=3)
        assert ledger_patrol.runs[1][0] - t0 < 1.0
        assert ledger_patrol.runs[1][1] == "change"
        # Not its business: changes reach a patrol in the order they happen, so once `other` has
        # run for a later .runtime/ change, a wake-up from the ledger change would have come first.
        await watchers_up(town, other)
        assert all(c.kind == "runtime" for c in other.changes), other.changes
    finally:
        await runner.stop()


async def test_idle_runs_back_off_and_activity_resets_the_timer(tmp_path):
    town = make_town(tmp_path)
    idle = Counter("idle", timer=Timer(0.1, 0.4))
    busy = Counter("busy", timer=Timer(0.1, 0.4), act=True)
    runner = PatrolRunner(town, [idle, busy], watch=False, min_gap=0.0)
    await runner.start()
    try:
        assert await wait_for(lambda: len(idle.runs) >= 5, timeout=15)
        gaps = [b[0] - a[0] for a, b in zip(idle.runs, idle.runs[1:])]
        # lower bounds are exact (timers never fire early); upper bounds leave room for a loaded machine
        assert 0.1 <= gaps[0] < 0.3
        assert 0.2 <= gaps[1] < 0.5
        assert 0.4 <= gaps[2] < 0.75
        assert 0.4 <= gaps[3] < 0.75  # capped at max (uncapped it would be 0.8)
        assert runner.get_status("idle").interval == pytest.approx(0.4)
        assert runner.get_status("busy").interval == pytest.approx(0.1)  # it keeps doing things
        st = runner.get_status("idle")
        assert st.next_run_at is not None and st.last_run_at is not None and st.next_run_at > st.last_run_at
    finally:
        await runner.stop()


async def test_every_run_is_an_event_with_what_it_saw_and_did_and_does_not_wake_anyone(tmp_path):
    town = make_town(tmp_path)
    actor = Counter("actor", act=True)
    listener = Counter("events-listener", kinds=("events",))
    seen = []
    runner = PatrolRunner(town, [actor, listener])
    runner.subscribe(seen.append)
    await runner.start()
    try:
        assert await wait_for(lambda: len(seen) >= 2)
        assert await wait_for(lambda: any(e["type"] == "patrol_run" for e in events(town)))
        runs = [e for e in events(town) if e["type"] == "patrol_run"]
        mine = [e for e in runs if e["payload"]["patrol"] == "actor"]
        assert mine and mine[0]["payload"]["saw"] == {"n": 1}
        assert mine[0]["payload"]["did"] == [{"kind": "noted", "target": "x", "reason": "because"}]
        # a real event from someone else does wake it
        with open(town / ".events.jsonl", "a") as f:
            f.write(json.dumps({"ts": "now", "type": "done", "actor": "gastown/polecats/nux", "payload": {}}) + "\n")
        assert await wait_for(lambda: len(listener.runs) == 2, timeout=3)
        assert {r.patrol for r in seen} >= {"actor", "events-listener"}
        # The patrol_run events, written before the "done" one, reached nobody: the listener's only
        # wake-up carried the "done" event alone.
        handed = [e.get("type") for c in listener.changes for e in (c.events or ())]
        assert handed == ["done"], handed
        assert len(listener.runs) == 2
    finally:
        await runner.stop()


async def test_a_patrol_that_raises_is_reported_and_runs_again(tmp_path):
    town = make_town(tmp_path)
    flaky = Counter("flaky", timer=Timer(0.1, 1.0), fail_first=2)
    runner = PatrolRunner(town, [flaky], watch=False, min_gap=0.0)
    await runner.start()
    try:
        assert await wait_for(lambda: len(flaky.runs) >= 2)
        st = runner.get_status("flaky")
        assert st.failures >= 1 and "boom" in st.last_error
        assert await wait_for(lambda: len(flaky.runs) >= 3 and runner.get_status("flaky").state == "idle")
        failed = [e for e in events(town) if e["type"] == "patrol_failed"]
        assert len(failed) == 2 and "RuntimeError: boom 1" in failed[0]["payload"]["error"]
    finally:
        await runner.stop()
    assert runner.get_status("flaky").state == "stopped"


async def test_manual_wake_and_adding_a_patrol_while_running(tmp_path):
    town = make_town(tmp_path)
    a = Counter("a")
    runner = PatrolRunner(town, [a], watch=False)
    await runner.start()
    try:
        assert await wait_for(lambda: len(a.runs) == 1)
        runner.wake("a")
        assert await wait_for(lambda: len(a.runs) == 2)
        assert a.runs[1][1] == "manual"
        b = Counter("b")
        runner.add(b)
        assert await wait_for(lambda: len(b.runs) == 1)
        assert runner.has("b") and set(runner.names()) == {"a", "b"}
    finally:
        await runner.stop()


async def test_a_patrol_can_ask_to_run_again_sooner_than_its_timer(tmp_path):
    town = make_town(tmp_path)

    class Hinting(Counter):
        def run(self, ctx):
            super().run(ctx)
            return Report(next_in=0.2)

    p = Hinting("hinting", timer=Timer(30, 300))
    runner = PatrolRunner(town, [p], watch=False)
    await runner.start()
    try:
        assert await wait_for(lambda: len(p.runs) >= 3, timeout=10)  # not 30 s apart
        assert p.runs[2][1] == "timer"
    finally:
        await runner.stop()


async def test_a_patrol_loop_that_dies_is_reported_and_restarted(tmp_path):
    town = make_town(tmp_path)

    class BrokenTimer(Timer):
        def next(self, current, active):
            raise ValueError("timer broke")

    p = Counter("fragile", timer=BrokenTimer(0.1, 0.2))
    runner = PatrolRunner(town, [p], watch=False, min_gap=0.0)
    await runner.start()
    try:
        assert await wait_for(lambda: len(p.runs) >= 2, timeout=15)  # it keeps running after its loop died
        failed = [e for e in events(town) if e["type"] == "patrol_failed"]
        assert failed and "patrol loop fragile died" in failed[0]["payload"]["error"]
        assert "timer broke" in runner.get_status("fragile").last_error
    finally:
        await runner.stop()


async def test_a_change_made_while_the_watchers_are_replaced_is_not_missed(tmp_path):
    """A new rig folder makes the runner watch a new set of folders; the rig's registration written at
    that very moment still wakes the patrols that read the configuration (it used to be lost until
    their timer, 30 s or more later)."""
    town = make_town(tmp_path)
    (town / "mayor").mkdir()
    (town / "mayor" / "rigs.json").write_text('{"version": 1, "rigs": {}}')
    reader = Counter("config-reader", kinds=("config",))
    probe = Counter("probe", kinds=("runtime",))
    runner = PatrolRunner(town, [reader, probe])
    await runner.start()
    try:
        assert await wait_for(lambda: len(reader.runs) == 1)  # start-up run
        await watchers_up(town, probe)
        before = runner._watch_signature
        (town / "second" / ".beads").mkdir(parents=True)
        assert await wait_for(lambda: runner._watch_signature != before)
        # at once, before the new watchers had a chance to start
        (town / "mayor" / "rigs.json").write_text('{"version": 1, "rigs": {"second": {}}}')
        assert await wait_for(lambda: len(reader.runs) >= 2, timeout=10)
        assert reader.runs[1][1] == "change"
    finally:
        await runner.stop()


class WaitsOnTheLoop(Patrol):
    """Like GUPP starting a polecat: holds the write lock while a session action runs on the loop, and that
    action reads a file through the loop's default executor."""
    name, role, timer = "starter", "test", Timer(30, 300)

    def __init__(self, loop):
        self.loop, self.took = loop, []

    def run(self, ctx):
        async def action():
            return await self.loop.run_in_executor(None, lambda: "read")
        t0 = time.monotonic()
        got = asyncio.run_coroutine_threadsafe(action(), self.loop).result(timeout=20)
        self.took.append((got, time.monotonic() - t0))
        return Report()


async def test_a_run_waiting_on_the_loop_is_not_starved_by_runs_waiting_for_the_lock(tmp_path):
    """Patrol runs do not take the loop's default executor: with every one of its threads held by runs
    waiting for the write lock, the lock holder's action on the loop could never get one (a deadlock until
    its timeout; seen as every patrol taking 60 s on a 2-core machine)."""
    from concurrent.futures import ThreadPoolExecutor

    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=2))  # a small machine's default executor
    town = make_town(tmp_path)
    starter = WaitsOnTheLoop(loop)
    others = [Counter(f"waiter{i}", kinds=()) for i in range(4)]
    runner = PatrolRunner(town, [starter, *others], watch=False, record_events=False)
    await runner.start()
    try:
        assert await wait_for(lambda: starter.took and all(o.runs for o in others), timeout=15)
        assert starter.took[0][0] == "read" and starter.took[0][1] < 10, starter.took
    finally:
        await runner.stop()


WHO = contextvars.ContextVar("who")


class SeesTheContext(Patrol):
    """Like GUPP starting a session: what a run starts on the loop sees the runner's context (the in-process
    app's `active_app`, which Textual's timers need)."""
    name, role, timer = "context", "test", Timer(30, 300)

    def __init__(self, loop):
        self.loop, self.seen = loop, []

    def run(self, ctx):
        async def on_the_loop():
            return WHO.get("unset")
        self.seen.append((WHO.get("unset"), asyncio.run_coroutine_threadsafe(on_the_loop(), self.loop).result(10)))
        return Report()


async def test_a_run_and_what_it_starts_on_the_loop_keep_the_runners_context(tmp_path):
    WHO.set("the app")
    patrol = SeesTheContext(asyncio.get_running_loop())
    runner = PatrolRunner(make_town(tmp_path), [patrol], watch=False, record_events=False)
    await runner.start()
    try:
        assert await wait_for(lambda: patrol.seen, timeout=15)
        assert patrol.seen[0] == ("the app", "the app"), patrol.seen
    finally:
        await runner.stop()
