"""The handoff patrol's decisions on built situations (stand-in sessions, a fake clock, real marker files)."""
from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from gastown_tui.patrols.base import Change, RunContext
from gastown_tui.patrols.handoffs import Handoffs, HandoffSettings

ADDR = "mayor/"


class Recorder:
    def __init__(self):
        self.applied = []

    def apply(self, d, actor):
        self.applied.append((d.kind, d.target, actor))
        return d


@pytest.fixture()
def town(tmp_path):
    from gastown_tui.town.install import install_town

    return install_town(tmp_path / "town")


def _session(sid: str, state: str = "idle", alive: bool = True, started_at: float | None = None):
    return SimpleNamespace(id=sid, state=state, alive=alive, started_at=started_at or time.time() - 600)


def _patrol(town, sessions: dict, wait=120.0):
    actions = Recorder()
    return Handoffs(town, sessions, actions, HandoffSettings(wait=wait, retry=30)), actions


def _run(patrol, now):
    return patrol.run(RunContext(now=now, reason="change"))


def _request(town, session_id="s-old"):
    from gastown_tui.town.handoff import request_handoff

    return request_handoff(town, ADDR, "carry on", session_id=session_id)


def test_an_idle_session_that_handed_off_is_replaced_at_once(town):
    from gastown_tui.town.handoff import pending_handoff

    _request(town)
    patrol, actions = _patrol(town, {ADDR: _session("s-old")})
    report = _run(patrol, time.time())
    assert actions.applied == [("handoff", ADDR, "handoff")]
    d = report.did[0]
    assert d.detail["old_session"] == "s-old" and d.detail["state"] == "idle" and "carry on" in d.detail["note"]
    assert pending_handoff(town, ADDR) is not None   # consuming it is the action's job (done in the live test)


def test_a_busy_session_is_left_to_finish_its_turn_then_replaced_after_the_wait(town):
    _request(town)
    patrol, actions = _patrol(town, {ADDR: _session("s-old", state="working")}, wait=120)
    t0 = time.time()
    report = _run(patrol, t0)
    assert report.did == [] and actions.applied == [] and report.next_in == pytest.approx(120, abs=1)
    report = _run(patrol, t0 + 60)
    assert report.did == [] and report.next_in == pytest.approx(60, abs=1)
    report = _run(patrol, t0 + 121)
    assert actions.applied == [("handoff", ADDR, "handoff")] and "still working" in report.did[0].reason


def test_no_session_here_is_reported_once_and_the_marker_stays(town):
    from gastown_tui.town.handoff import pending_handoff

    _request(town)
    patrol, actions = _patrol(town, {})
    first = _run(patrol, time.time())
    assert [(d.kind, d.done) for d in first.did] == [("handoff", False)] and "no session" in first.did[0].reason
    assert _run(patrol, time.time()).did == [] and actions.applied == []
    assert pending_handoff(town, ADDR) is not None


def test_a_session_started_after_the_request_means_it_was_already_replaced(town):
    from gastown_tui.town.handoff import pending_handoff

    _request(town, session_id="s-old")
    patrol, actions = _patrol(town, {ADDR: _session("s-new", started_at=time.time() + 1)})
    report = _run(patrol, time.time() + 2)
    assert actions.applied == [] and report.did[0].detail["result"] == "already replaced"
    assert pending_handoff(town, ADDR) is None


def test_an_unreadable_marker_is_reported_once_naming_the_file_and_left_alone(town):
    bad = town.runtime / "handoffs" / "mayor.json"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("{not json")
    patrol, actions = _patrol(town, {ADDR: _session("s-old")})
    first = _run(patrol, time.time())
    assert len(first.did) == 1 and not first.did[0].done and str(bad) in first.did[0].reason
    assert _run(patrol, time.time()).did == [] and bad.read_text() == "{not json" and actions.applied == []


def test_it_wakes_for_markers_and_for_sessions_ending_a_turn_with_a_marker_pending(town):
    patrol, _ = _patrol(town, {})
    folder = town.runtime / "handoffs"
    assert patrol.concerns(Change("runtime", folder / "x--polecats--y.json"))
    assert not patrol.concerns(Change("runtime", folder / "last" / "x--polecats--y.json"))
    assert not patrol.concerns(Change("runtime", town.runtime / "nudge_queue" / "mayor" / "1.json"))
    idle = Change("session", events=({"type": "StateChange", "agent": ADDR, "state": "idle"},))
    assert not patrol.concerns(idle)   # nothing pending
    _request(town)
    assert patrol.concerns(idle)
    assert not patrol.concerns(Change("session", events=({"type": "StateChange", "state": "working"},)))


def test_a_second_marker_written_meanwhile_is_not_consumed_by_the_first_request(town):
    from gastown_tui.town.handoff import consume_handoff, pending_handoff
    from gastown_tui.town.jsonfile import write_json

    first = _request(town)
    newer = {**first, "requested_at": "2099-01-01T00:00:00Z"}
    write_json(town.runtime / "handoffs" / "mayor.json", newer)
    assert consume_handoff(town, ADDR, first["requested_at"]) is False
    assert pending_handoff(town, ADDR)["requested_at"] == newer["requested_at"]
    assert consume_handoff(town, ADDR, newer["requested_at"]) and pending_handoff(town, ADDR) is None
    assert Path(town.runtime / "handoffs" / "last" / "mayor.json").exists()
