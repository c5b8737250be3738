"""Nudges: typed when idle, submitted exactly once and in order; failures reported, never dropped."""
from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

import pytest

from gastown_tui.sessions.manager import SessionManager
from gastown_tui.sessions.presets import Preset, load_presets
from gastown_tui.sessions.session import Session, SessionSpec
from gastown_tui.sessions.states import NudgeDelivered, NudgeFailed, SessionState
from waiting import until as _until

PROGRAMS = Path(__file__).parent / "programs"
AGENT = "gastown/polecats/nux"
KEY = "gastown--polecats--nux"


def _preset(name: str, script: str, *args: str) -> Preset:
    return Preset.from_dict(name, {
        "argv": [sys.executable, str(PROGRAMS / script), *args],
        "quit_keys": ["ctrl+c", "ctrl+d"],
        "rules": [
            {"name": f"{name}.working", "state": "working", "region": "bottom:3", "pattern": "esc to interrupt"},
            {"name": f"{name}.idle", "state": "idle", "region": "cursor_line", "pattern": r"^>( |$)"},
        ],
    })


async def _lines(log: Path, count: int = 1, timeout: float = 30.0, settle: float = 0.3) -> list[str]:
    """The log's lines once it holds at least `count` (waiting up to `timeout` on a busy machine), read
    again after `settle` seconds so that a line typed twice would show."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (log.exists() and len(log.read_text().splitlines()) >= count):
        await asyncio.sleep(0.05)
    await asyncio.sleep(settle)
    return log.read_text().splitlines() if log.exists() else []


def _queue(town: Path, message: str, n: int, priority: str = "normal", sender: str = "mayor/") -> Path:
    folder = town / ".runtime" / "nudge_queue" / KEY
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time.time_ns():020d}-{n:04d}-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps({"sender": sender, "message": message, "priority": priority,
                                "timestamp": "2026-11-21T06:00:00Z"}))
    return path


@pytest.mark.slow
async def test_100_nudges_to_a_busy_agent_are_submitted_exactly_once_in_order(tmp_path):
    log = tmp_path / "received.log"
    presets = {**load_presets(), "busy": _preset("busy", "busy_agent.py", str(log), "7")}
    mgr = SessionManager(tmp_path, presets=presets, tick=0.05)
    delivered, failed = [], []
    mgr.add_listener(lambda e: delivered.append(e) if isinstance(e, NudgeDelivered)
                     else failed.append(e) if isinstance(e, NudgeFailed) else None)
    try:
        s = await mgr.spawn(SessionSpec(AGENT, "busy", cwd=tmp_path))
        messages = [f"nudge {i:03d} please look at gt-{i:03d}" for i in range(100)]
        for i, m in enumerate(messages):
            _queue(tmp_path, m, i)
        deadline = time.monotonic() + 150
        while len(delivered) + len(failed) < 100 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert failed == []
        assert [e.message for e in delivered] == messages
        await s.wait_state({SessionState.IDLE}, timeout=20)
        got = log.read_text().splitlines()
        assert got == [f"[from mayor/] {m}" for m in messages]
        queue = tmp_path / ".runtime" / "nudge_queue" / KEY
        assert sorted(p.name for p in queue.iterdir()) == ["delivered.jsonl"]
        assert len((queue / "delivered.jsonl").read_text().splitlines()) == 100
    finally:
        await mgr.close()


async def test_an_enter_the_program_swallowed_is_pressed_again(tmp_path):
    log = tmp_path / "received.log"
    s = Session(SessionSpec(AGENT, _preset("swallow", "swallow_agent.py", str(log)), cwd=tmp_path, town=tmp_path))
    await s.start()
    try:
        assert await s.wait_state({SessionState.IDLE}, timeout=20)
        result = await s.submit("hello from the witness")
        assert result.submitted and result.enters == 2, result
        assert await _lines(log) == ["hello from the witness"]
    finally:
        await s.stop()


@pytest.mark.slow
async def test_an_undeliverable_nudge_is_reported_and_kept(tmp_path):
    log = tmp_path / "received.log"
    presets = {**load_presets(), "never": _preset("never", "swallow_agent.py", str(log), "--never")}
    mgr = SessionManager(tmp_path, presets=presets, tick=0.05)
    events = mgr.events()
    try:
        await mgr.spawn(SessionSpec(AGENT, "never", cwd=tmp_path))
        path = _queue(tmp_path, "you will not take this", 0)
        event = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            e = await asyncio.wait_for(events.get(), timeout=20)
            if isinstance(e, (NudgeFailed, NudgeDelivered)):
                event = e
                break
        assert isinstance(event, NudgeFailed)
        assert event.message == "you will not take this" and "after 4 Enter presses" in event.reason
        kept = path.parent / "undeliverable" / path.name
        assert json.loads(kept.read_text())["message"] == "you will not take this"
        assert "Enter" in (path.parent / "undeliverable" / (path.name + ".reason")).read_text()
        assert not log.exists()
    finally:
        await mgr.close()


async def test_a_broken_nudge_file_is_reported_by_name_and_kept(tmp_path):
    log = tmp_path / "received.log"
    presets = {**load_presets(), "busy": _preset("busy", "busy_agent.py", str(log))}
    mgr = SessionManager(tmp_path, presets=presets, tick=0.05)
    failed = []
    mgr.add_listener(lambda e: failed.append(e) if isinstance(e, NudgeFailed) else None)
    try:
        folder = tmp_path / ".runtime" / "nudge_queue" / KEY
        folder.mkdir(parents=True)
        bad = folder / "00000000000000000001-bad.json"
        bad.write_text('{"sender": "mayor/",\n "message": ')
        good = _queue(tmp_path, "still delivered", 1)
        await mgr.spawn(SessionSpec(AGENT, "busy", cwd=tmp_path))
        assert await _lines(log) == ["[from mayor/] still delivered"]
        assert len(failed) == 1 and "00000000000000000001-bad.json:2" in failed[0].reason
        assert (folder / "undeliverable" / bad.name).exists() and not good.exists()
    finally:
        await mgr.close()


async def test_urgent_nudges_go_first_and_a_half_delivered_one_is_recovered(tmp_path):
    log = tmp_path / "received.log"
    presets = {**load_presets(), "busy": _preset("busy", "busy_agent.py", str(log))}
    folder = tmp_path / ".runtime" / "nudge_queue" / KEY
    crashed = _queue(tmp_path, "left by a crash", 0)  # the oldest: it was being typed when the app died
    crashed.rename(crashed.with_name(crashed.name + ".delivering"))
    _queue(tmp_path, "normal one", 1)
    _queue(tmp_path, "urgent one", 2, priority="urgent", sender="deacon/")
    mgr = SessionManager(tmp_path, presets=presets, tick=0.05)
    try:
        await mgr.spawn(SessionSpec(AGENT, "busy", cwd=tmp_path))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sorted(p.name for p in folder.iterdir()) != ["delivered.jsonl"]:
            await asyncio.sleep(0.05)
        assert log.read_text().splitlines() == [
            "[URGENT from deacon/] urgent one", "[from mayor/] left by a crash", "[from mayor/] normal one"]
        assert sorted(p.name for p in folder.iterdir()) == ["delivered.jsonl"]
    finally:
        await mgr.close()


async def test_a_paste_beacon_is_typed_once_the_agent_is_ready(tmp_path):
    log = tmp_path / "received.log"
    preset = Preset.from_dict("busy", {**{"argv": [sys.executable, str(PROGRAMS / "busy_agent.py"), str(log)]},
                                       "beacon": "paste", "quit_keys": ["ctrl+c", "ctrl+d"],
                                       "rules": [{"name": "b.idle", "state": "idle", "region": "cursor_line",
                                                  "pattern": r"^>( |$)"}]})
    beacon = "[GAS TOWN] polecat nux (rig: gastown) <- witness • 2026-11-21T06:00 • assigned"
    s = Session(SessionSpec(AGENT, preset, cwd=tmp_path, town=tmp_path, beacon=beacon))
    await s.start()
    try:
        assert beacon not in s.argv  # typed in, not passed on the command line
        assert await _lines(log) == [beacon]
    finally:
        await s.stop()


async def test_an_urgent_nudge_does_not_wait_behind_a_normal_one_for_a_busy_agent(tmp_path):
    log = tmp_path / "received.log"
    # This agent never looks idle to the rules: normal nudges wait, urgent ones go in at once.
    preset = Preset.from_dict("hard", {"argv": [sys.executable, str(PROGRAMS / "busy_agent.py"), str(log)],
                                       "quit_keys": ["ctrl+c", "ctrl+d"],
                                       "rules": [{"name": "h.working", "state": "working", "active_within": 9999}]})
    mgr = SessionManager(tmp_path, presets={"hard": preset}, tick=0.05)
    try:
        s = await mgr.spawn(SessionSpec(AGENT, "hard", cwd=tmp_path))
        await s.wait_state({SessionState.WORKING}, timeout=20)
        normal = _queue(tmp_path, "can wait", 0)
        claimed = normal.with_name(normal.name + ".delivering")
        assert await _until(claimed.exists), "the normal nudge was never claimed"  # waiting for idle now
        _queue(tmp_path, "stop now", 1, priority="urgent", sender="witness")
        assert await _lines(log) == ["[URGENT from witness] stop now"]
        # Still queued (or claimed again, waiting for idle): not dropped, not typed.
        assert normal.exists() or normal.with_name(normal.name + ".delivering").exists()
    finally:
        await mgr.close()


async def test_an_expired_nudge_is_reported_not_typed(tmp_path):
    log = tmp_path / "received.log"
    presets = {**load_presets(), "busy": _preset("busy", "busy_agent.py", str(log))}
    path = _queue(tmp_path, "too late", 0)
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "expires_at": time.time() - 5}))
    fresh = _queue(tmp_path, "in time", 1)
    mgr = SessionManager(tmp_path, presets=presets, tick=0.05)
    failed = []
    mgr.add_listener(lambda e: failed.append(e) if isinstance(e, NudgeFailed) else None)
    try:
        await mgr.spawn(SessionSpec(AGENT, "busy", cwd=tmp_path))
        assert await _lines(log) == ["[from mayor/] in time"]
        assert not fresh.exists()
        assert len(failed) == 1 and failed[0].message == "too late" and "expired at" in failed[0].reason
        assert (path.parent / "undeliverable" / path.name).exists()
    finally:
        await mgr.close()


async def test_a_nudge_queued_by_the_gastown_command_is_typed_in(tmp_path):
    import subprocess

    town = tmp_path / "town"
    run = [sys.executable, "-m", "gastown_tui.cli"]
    subprocess.run(run + ["install", str(town)], check=True, capture_output=True, timeout=60)
    subprocess.run(run + ["nudge", "mayor", "check", "your", "mail"], check=True, capture_output=True,
                   timeout=60, cwd=town)
    log = tmp_path / "received.log"
    mgr = SessionManager(town, presets={"busy": _preset("busy", "busy_agent.py", str(log))}, tick=0.05)
    delivered = []
    mgr.add_listener(lambda e: delivered.append(e) if isinstance(e, NudgeDelivered) else None)
    try:
        await mgr.spawn(SessionSpec("mayor/", "busy", cwd=tmp_path))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not delivered:
            await asyncio.sleep(0.05)
        assert [e.message for e in delivered] == ["check your mail"]
        assert await _lines(log) == [f"[from {delivered[0].sender}] check your mail"]
    finally:
        await mgr.close()
