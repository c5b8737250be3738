"""Nudge queue files, handoff markers, seance over recorded sessions, shims, the event feed."""
from __future__ import annotations

import json
import os
import subprocess

from gastown_tui.town.nudges import ack, enqueue, peek
from town_testkit import gastown


def test_nudge_cli_queues_a_file_the_session_manager_can_read(town, rig):
    gastown("nudge", "calc/witness", "check", "the", "queue", cwd=town.root, env={"GT_AGENT": "mayor/"})
    gastown("nudge", "calc/witness", "fire!", "--urgent", cwd=town.root)
    folder = town.root / ".runtime" / "nudge_queue" / "calc--witness"
    files = sorted(folder.glob("*.json"))
    assert len(files) == 2
    first = json.loads(files[0].read_text())
    assert first["sender"] == "mayor/" and first["message"] == "check the queue" and first["priority"] == "normal"
    assert first["timestamp"] and first["expires_at"]
    queued = peek(town.runtime / "nudge_queue", "calc/witness")
    assert [n.message for n in queued] == ["fire!", "check the queue"], "urgent first"
    ack(queued[0])
    assert [n.message for n in peek(town.runtime / "nudge_queue", "calc/witness")] == ["check the queue"]
    proc = gastown("nudge", "calc/polecats/ghost", "hi", cwd=town.root, check=False)
    assert proc.returncode == 1 and "unknown address" in proc.stderr


def test_enqueue_order_is_file_name_order(town):
    root = town.runtime / "nudge_queue"
    paths = [enqueue(root, "mayor/", f"m{i}") for i in range(5)]
    assert sorted(p.name for p in paths) == [p.name for p in paths]


def test_handoff_mails_self_marks_and_prime_shows_note(town, rig):
    from gastown_tui.town.handoff import clear_handoff, pending_handoff

    env = {"GT_AGENT": "calc/witness"}
    out = gastown("handoff", "-m", "Watch nux: tests flaky\nsecond line", cwd=town.root, env=env).stdout
    assert "Handoff recorded for calc/witness" in out
    marker = pending_handoff(town, "calc/witness")
    assert marker["address"] == "calc/witness" and marker["note"].startswith("Watch nux")
    prime = gastown("prime", cwd=town.root, env=env).stdout
    assert "Handoff from your previous session" in prime and "🤝 HANDOFF: Watch nux: tests flaky" in prime
    feed = json.loads(gastown("feed", "--json", "--type", "handoff", cwd=town.root).stdout)
    assert [e["actor"] for e in feed] == ["calc/witness"]
    clear_handoff(town, "calc/witness")
    assert pending_handoff(town, "calc/witness") is None


def test_seance_lists_sessions_and_prints_transcript_tail(town, rig):
    proc = gastown("seance", "calc/witness", cwd=town.root)
    assert "No recorded sessions" in proc.stdout
    base = town.root / ".runtime" / "sessions" / "calc--witness"
    for sid, started, text in (("aaa111", "2026-01-01T10:00:00Z", "old line"),
                               ("bbb222", "2026-01-02T10:00:00Z", "\n".join(f"line {i}" for i in range(100)))):
        (base / sid).mkdir(parents=True)
        (base / sid / "meta.json").write_text(json.dumps({"session_id": sid, "agent": "calc/witness",
                                                          "started_at": started, "exit_status": 0, "preset": "sim"}))
        (base / sid / "transcript.txt").write_text(text + "\n")
    out = gastown("seance", "calc/witness", "--lines", "3", cwd=town.root).stdout
    assert out.index("bbb222") < out.index("aaa111"), "newest first"
    assert out.rstrip().endswith("line 97\nline 98\nline 99")
    out = gastown("seance", "calc/witness", "--session", "aaa", cwd=town.root).stdout
    assert out.rstrip().endswith("old line")


def test_shims_run_gt_and_bd(town, rig, tmp_path):
    shims = tmp_path / "shims"
    gastown("shims", str(shims), cwd=tmp_path)
    env = dict(os.environ, PATH=f"{shims}{os.pathsep}{os.environ['PATH']}", GT_TOWN=str(town.root))
    out = subprocess.run(["gt", "rig", "list"], env=env, capture_output=True, text=True, check=True).stdout
    assert out.startswith("calc")
    created = subprocess.run(["bd", "create", "From a shim", "--json"], env=env, cwd=town.root / "calc",
                             capture_output=True, text=True, check=True).stdout
    assert json.loads(created)["id"].startswith("ca-")


def test_feed_since_and_text(town, rig):
    out = gastown("feed", cwd=town.root).stdout.splitlines()
    assert out[0].split()[1] == "town_installed" and out[1].split()[1] == "rig_added"
    assert json.loads(gastown("feed", "--since", "1h", "--json", cwd=town.root).stdout)
    proc = gastown("feed", "--since", "yesterdayish", cwd=town.root, check=False)
    assert proc.returncode == 1 and "--since" in proc.stderr


def test_broken_event_line_is_named(town):
    from gastown_tui.errors import UserError
    from gastown_tui.town.events import read_events

    with open(town.events_path, "a") as fh:
        fh.write("{not json\n")
    try:
        read_events(town.events_path)
    except UserError as exc:
        assert ".events.jsonl:2: bad event line" in str(exc)
    else:
        raise AssertionError("a broken line must be reported")
