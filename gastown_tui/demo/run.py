"""Runs a town's factory headless (sessions + patrols) until a convoy lands, a timeout, or a stop.

`run_factory` is what `gastown run --headless` and `gastown demo --headless` use.
With `chaos`, a seeded random generator kills polecat processes (SIGKILL) and
restarts polecat sessions every few seconds; the Witness and GUPP must recover.
"""
from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from gastown_tui.errors import NotFound
from gastown_tui.patrols.runtime import TownRuntime
from gastown_tui.town.convoys import get_convoy


@dataclass
class Chaos:
    seed: int = 7
    every: float = 1.5  # seconds between strikes
    kill_share: float = 0.6  # the rest are restarts
    max_strikes: int = 8
    # Strikes on one polecat at most: below the Witness's restart budget per bead (3, then it escalates
    # to the Overseer), so chaos shows recovery instead of exhausting it — with no Overseer in a headless
    # run, an escalated bead would never land.
    max_per_agent: int = 2
    strikes: list[dict] = field(default_factory=list)


@dataclass
class FactoryOutcome:
    landed: bool
    seconds: float
    stopped_by: str  # landed, timeout, signal, stop
    chaos: list[dict] = field(default_factory=list)


def format_record(record) -> str | None:
    """One log line for a patrol run that did something (or failed); None for idle runs."""
    stamp = time.strftime("%H:%M:%S", time.localtime(record.finished_at))
    if record.error:
        return f"{stamp} {record.patrol:<18} FAILED {record.error.splitlines()[0]}"
    if not record.report or not record.report.did:
        return None
    parts = []
    for d in record.report.did:
        mark = "" if d.done else " (not done: " + str(d.detail.get("error", "?")) + ")"
        parts.append(f"{d.kind} {d.target}{' ' + d.bead if d.bead else ''}{mark}")
    return f"{stamp} {record.patrol:<18} " + "; ".join(parts)


def format_session_event(event) -> str | None:
    """One log line for a session starting or ending (state changes are too many to log)."""
    kind = type(event).__name__
    stamp = time.strftime("%H:%M:%S")
    if kind == "SessionStarted":
        return f"{stamp} session            {event.agent} started (pid {event.pid})"
    if kind == "SessionExited":
        return f"{stamp} session            {event.agent} exited ({event.exit_status})"
    return None


def convoy_landed(town, convoy_id: str) -> bool:
    """True once the convoy is closed; False while it is open or not filed yet (the Mayor files the
    demo's convoy after the factory starts)."""
    try:
        return get_convoy(town, convoy_id).status == "closed"
    except NotFound:
        return False


async def _chaos_strike(rt: TownRuntime, chaos: Chaos, rng: random.Random, log: Callable[[str], None]) -> None:
    struck = [st["agent"] for st in chaos.strikes]
    live = sorted((s for s in rt.sessions.sessions() if s.alive and "/polecats/" in s.agent
                   and struck.count(s.agent) < chaos.max_per_agent), key=lambda s: s.agent)
    if not live:
        return
    victim = rng.choice(live)
    if rng.random() < chaos.kill_share and victim.pid:
        os.kill(victim.pid, signal.SIGKILL)
        what = "kill -9"
    else:
        async with rt.actions.agent_lock(victim.agent):  # never two restarts of one agent at once
            if not victim.alive:
                return
            await rt.sessions.restart(victim.agent)
        what = "restart"
    chaos.strikes.append({"at": time.time(), "what": what, "agent": victim.agent})
    log(f"{time.strftime('%H:%M:%S')} chaos              {what} {victim.agent}")


async def run_factory(town_root: Path, *, convoy: str | None = None, timeout: float | None = None,
                      chaos: Chaos | None = None, log: Callable[[str], None] = print,
                      stop_event: asyncio.Event | None = None, runtime: TownRuntime | None = None,
                      start_mayor: bool = True) -> FactoryOutcome:
    rt = runtime or TownRuntime(Path(town_root), start_mayor=start_mayor)
    stop_event = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop_event.set)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    rt.runner.subscribe(lambda r: (line := format_record(r)) and log(line))
    rt.sessions.add_listener(lambda e: (line := format_session_event(e)) and log(line))
    start = time.monotonic()
    rng = random.Random(chaos.seed) if chaos else None
    next_strike = start + (chaos.every if chaos else 0)
    stopped_by = "stop"
    await rt.start()
    log(f"{time.strftime('%H:%M:%S')} factory            running {len(rt.runner.names())} patrols in {rt.town.root}")
    try:
        while True:
            if convoy and await asyncio.to_thread(convoy_landed, rt.town, convoy):
                stopped_by = "landed"
                break
            if timeout is not None and time.monotonic() - start >= timeout:
                stopped_by = "timeout"
                break
            if stop_event.is_set():
                stopped_by = "signal"
                break
            if chaos and time.monotonic() >= next_strike and len(chaos.strikes) < chaos.max_strikes:
                await _chaos_strike(rt, chaos, rng, log)
                next_strike = time.monotonic() + chaos.every
            try:
                await asyncio.wait_for(stop_event.wait(), 0.25)
            except asyncio.TimeoutError:
                pass
    finally:
        log(f"{time.strftime('%H:%M:%S')} factory            stopping ({stopped_by}): patrols, then every agent")
        await rt.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
    return FactoryOutcome(stopped_by == "landed", time.monotonic() - start, stopped_by,
                          chaos.strikes if chaos else [])
