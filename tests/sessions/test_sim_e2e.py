"""End to end: a real Session runs the simulated agent in a real polecat worktree of a real town.

The town is built with the `gastown` command line only (install, rig add, bd create,
sling with a three-step formula whose steps carry `sim:` instructions); the session
is the sessions layer's `Session` with the `sim` preset.
"""
from __future__ import annotations

import asyncio
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gastown_tui.sessions.session import Session, SessionSpec
from gastown_tui.sessions.states import SessionState, StateChange
from kit.git import git, one_commit_repo

NEEDED = ["install", "rig", "sling", "prime", "done", "mol", "mail", "mq", "shims", "bd"]

THREE_STEP = '''formula = "three-step"
type = "workflow"
version = 1
description = "Three steps, each one commit"

[vars.issue]
description = "the bead"
required = true

[[steps]]
id = "one"
title = "Write one"
description = """
sim: write one.txt
    first
sim: commit Step one
"""

[[steps]]
id = "two"
title = "Write two"
needs = ["one"]
description = """
sim: sleep 1
sim: write two.txt
    second
sim: commit Step two
"""

[[steps]]
id = "three"
title = "Write three"
needs = ["two"]
description = """
sim: append one.txt
    more
sim: commit Step three
"""
'''


def _missing_commands() -> list[str]:
    return [c for c in NEEDED if importlib.util.find_spec(f"gastown_tui.commands.{c}") is None]


def gastown(cwd: Path, *args: str, env: dict | None = None) -> str:
    proc = subprocess.run([sys.executable, "-m", "gastown_tui.cli", *args], cwd=cwd, capture_output=True,
                          text=True, env=env)
    assert proc.returncode == 0, f"gastown {' '.join(args)} failed: {proc.stderr or proc.stdout}"
    return proc.stdout


def make_town(root: Path) -> Path:
    """A town with one rig `proj` (from a one-commit repo), agent shims and the three-step formula."""
    missing = _missing_commands()
    assert not missing, f"commands not registered: gastown {', '.join(missing)}"
    src = one_commit_repo(root / "src", {"README.md": "# proj\n"}, message="init")
    gastown(root, "install", "town")
    town = root / "town"
    gastown(town, "rig", "add", "proj", str(src))
    gastown(town, "shims", str(town / ".runtime" / "shims"))
    (town / "formulas" / "three-step.formula.toml").write_text(THREE_STEP)
    return town


def sling(town: Path, title: str, description: str, formula: str | None = None) -> tuple[str, Path, str]:
    """Files a bead and slings it to the rig: (polecat address, worktree, bead id)."""
    bead = json.loads(gastown(town / "proj", "bd", "--json", "create", title, "--description", description))
    bead_id = bead["id"] if isinstance(bead, dict) else bead[0]["id"]
    args = ["--formula", formula] if formula else []
    out = json.loads(gastown(town, "sling", bead_id, "proj", *args, "--no-convoy", "--json"))
    agent = out.get("agent") or out.get("polecat") or out.get("assignee")
    return agent, Path(out["worktree"]), bead_id


@pytest.fixture
def hooked_polecat(tmp_path):
    """A polecat whose hook holds a bead with a three-step molecule."""
    town = make_town(tmp_path)
    agent, worktree, bead_id = sling(town, "Do three things", "Work in three steps.", "three-step")
    return town, agent, worktree, bead_id


@pytest.mark.slow
async def test_sim_works_a_three_step_molecule_in_a_real_session(hooked_polecat):
    town, agent, worktree, bead_id = hooked_polecat
    base = git(worktree, "rev-parse", "HEAD").strip()
    session = Session(SessionSpec(agent=agent, preset="sim", cwd=worktree, town=town, cols=100, rows=30))
    states: list[SessionState] = [session.state]
    session.add_listener(lambda e: states.append(e.new) if isinstance(e, StateChange) else None)
    await session.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = "submitted" in session.screen.text() or "failed:" in session.screen.text()
            if done and session.state == SessionState.IDLE:
                break
            await session.wait_state({SessionState.IDLE}, timeout=0.5)
        screen = session.screen.text()
        assert "✓ submitted" in screen, screen
        assert session.state == SessionState.IDLE, (session.state, session.state_rule)
        # every step's commit is on the polecat's branch, in order
        log = git(worktree, "log", "--format=%s", f"{base}..HEAD").split("\n")
        assert [line for line in log if line] == ["Step three", "Step two", "Step one"]
        assert (worktree / "one.txt").read_text() == "first\nmore\n"
        # starting -> working -> idle (no other state on the way)
        seen = [s for i, s in enumerate(states) if i == 0 or s != states[i - 1]]
        assert seen == [SessionState.STARTING, SessionState.WORKING, SessionState.IDLE], seen
        # the screen always says it is simulated
        assert "SIMULATED" in screen
        # gt done ran: the merge queue holds the branch, and every step is closed
        queue = json.loads(gastown(town, "mq", "list", "--json"))
        assert any(mr["source_bead"] == bead_id and mr["polecat"] == agent for mr in queue), queue
        env = {"GT_TOWN": str(town), "GT_AGENT": agent, "PATH": "/usr/bin:/bin"}
        prime = json.loads(gastown(worktree, "prime", "--json", "--agent", agent, env=env))
        steps = (prime.get("molecule") or {}).get("steps") or []
        assert all(s["status"] == "closed" for s in steps), steps
    finally:
        await session.stop(grace=1.0)
    # the transcript exists, raw and plain text
    raw = session.transcript_dir / "transcript.raw"
    assert raw.exists() and b"SIMULATED" in raw.read_bytes()
    assert "Step 3/3" in (session.transcript_dir / "transcript.txt").read_text()


async def wait_text(session: Session, needle: str, timeout: float = 30.0, count: int = 1) -> str:
    """Waits until `needle` appears `count` times in the session's history + screen; returns that text."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = session.screen.history_text()
        if text.count(needle) >= count:
            return text
        await asyncio.sleep(0.1)
    raise AssertionError(f"{needle!r} (x{count}) did not appear in {timeout}s; screen:\n{session.screen.text()}")


def start_sim(town: Path, agent: str, worktree: Path) -> Session:
    return Session(SessionSpec(agent=agent, preset="sim", cwd=worktree, town=town, cols=100, rows=40))


@pytest.mark.slow
async def test_typed_text_is_echoed_acknowledged_and_queued_while_working(tmp_path):
    town = make_town(tmp_path)
    agent, worktree, _ = sling(town, "Slow work", "sim: sleep 3\nsim: write a.txt\n    a\nsim: commit Add a\n")
    session = start_sim(town, agent, worktree)
    await session.start()
    try:
        await wait_text(session, "esc to interrupt", timeout=15)
        for text in ("first note", "second note"):
            result = await session.submit(text)
            assert result.submitted and result.enters == 1, result
        text = await wait_text(session, "queued (working)", count=2)
        assert text.index("❯ first note") < text.index("❯ second note")
        text = await wait_text(session, "✓ submitted", timeout=40)
        text = await wait_text(session, "Acknowledged: 'second note'")
        assert text.index("Acknowledged: 'first note'") < text.index("Acknowledged: 'second note'")
        assert text.index("✓ submitted") < text.index("Acknowledged: 'first note'")
        # idle: a nudge to check the hook re-reads it (now empty: the work was submitted)
        await session.submit("gt prime")
        await wait_text(session, "nothing on my hook")
    finally:
        await session.stop(grace=1.0)


@pytest.mark.slow
async def test_fail_reports_and_leaves_the_work_hooked(tmp_path):
    town = make_town(tmp_path)
    agent, worktree, bead_id = sling(town, "Broken", "sim: write a.txt\n    a\nsim: fail the tests are red\n")
    session = start_sim(town, agent, worktree)
    await session.start()
    try:
        await wait_text(session, "✗ failed: the tests are red")
        assert await session.wait_state({SessionState.IDLE}, timeout=20)
        assert "· failed" in session.screen.text()
    finally:
        await session.stop(grace=1.0)
    env = {"GT_TOWN": str(town), "PATH": "/usr/bin:/bin"}
    prime = json.loads(gastown(worktree, "prime", "--json", "--agent", agent, env=env))
    assert prime["hook"]["id"] == bead_id and prime["hook"]["status"] == "hooked"
    assert json.loads(gastown(town, "mq", "list", "--json")) == []  # gt done never ran


@pytest.mark.slow
async def test_escape_interrupts_and_hang_goes_silent(tmp_path):
    town = make_town(tmp_path)
    agent, worktree, _ = sling(town, "Long", "sim: sleep 60\nsim: hang\n")
    session = start_sim(town, agent, worktree)
    await session.start()
    try:
        await wait_text(session, "Sleep(60)")
        session.send_key("escape")
        await wait_text(session, "Interrupted by user", timeout=20)
        assert await session.wait_state({SessionState.IDLE}, timeout=20)
        # 'check your hook' starts over; this time let the sleep be cut short by a retry env? no: interrupt again
        await session.submit("check your hook")
        await wait_text(session, "Sleep(60)", count=2)
        session.send_key("escape")
        await wait_text(session, "Interrupted by user", count=2, timeout=20)
    finally:
        await session.stop(grace=1.0)
    assert session.exit_status is not None


@pytest.mark.slow
async def test_hang_stops_all_output(tmp_path):
    town = make_town(tmp_path)
    agent, worktree, _ = sling(town, "Stuck", "sim: write a.txt\n    a\nsim: hang\n")
    session = start_sim(town, agent, worktree)
    await session.start()
    try:
        await wait_text(session, "Created a.txt")
        await asyncio.sleep(0.5)
        seq = session.output_seq
        session.write(b"hello?\r")
        await asyncio.sleep(1.5)
        assert session.output_seq == seq, "a hung sim agent still drew something"
        assert "esc to interrupt" in session.screen.text()  # frozen mid-work: looks stuck
    finally:
        await session.stop(grace=1.0)
    assert session.exit_status is not None


@pytest.mark.slow
async def test_retry_after_fix_needed_runs_the_retry_instructions(tmp_path):
    from gastown_tui.patrols import refinery
    from gastown_tui.town.layout import find_town

    town = make_town(tmp_path)
    description = (
        "Make add() add.\n\n"
        "sim: write calc.py\n    def add(a, b):\n        return a - b\n"
        "sim: commit Add add()\n"
        "sim[retry]: write calc.py\n    def add(a, b):\n        return a + b\n"
        "sim[retry]: commit Fix add(): add, do not subtract\n"
    )
    agent, worktree, bead_id = sling(town, "Add add()", description)
    session = start_sim(town, agent, worktree)
    await session.start()
    try:
        await wait_text(session, "✓ submitted")
        (mr,) = json.loads(gastown(town, "mq", "list", "--json"))
        refinery.send_back(find_town(town), mr["id"], "add() subtracts")
        await session.submit("gt prime")  # what GUPP / the Witness types into an idle polecat with work hooked
        text = await wait_text(session, "✓ submitted", count=2)
        assert "This is a retry of" in text and "FIX_NEEDED" in text
    finally:
        await session.stop(grace=1.0)
    assert "return a + b" in (worktree / "calc.py").read_text()
    subjects = git(worktree, "log", "--format=%s", "-2").split("\n")
    assert subjects[:2] == ["Fix add(): add, do not subtract", "Add add()"]
    branch = git(worktree, "rev-parse", "--abbrev-ref", "HEAD").strip()
    assert git(worktree, "rev-parse", f"origin/{branch}").strip() == git(worktree, "rev-parse", "HEAD").strip()


async def test_sim_redraws_cleanly_when_the_terminal_is_resized(tmp_path):
    """After a resize the terminal reflows what was drawn; the sim redraws so no stale prompt or footer is left."""
    session = Session(SessionSpec(agent="proj/crew/sim", preset="sim", cwd=tmp_path, cols=120, rows=30,
                                  argv=[sys.executable, "-m", "gastown_tui.cli", "agent", "sim", "--no-autostart"]))
    await session.start()
    try:
        await wait_text(session, "· idle")
        await session.submit("hello")
        await wait_text(session, "Acknowledged: 'hello'")
        for cols in (70, 45, 100):
            session.resize(cols, 30)
            await asyncio.sleep(0.3)
            session.write(b"x")  # typing redraws the live area
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not (
                    sum(line.startswith("──") for line in session.screen.lines()) == 1
                    and sum("SIMULATED agent (no model)" in line for line in session.screen.lines()) == 1):
                await asyncio.sleep(0.1)
            lines = session.screen.lines()
            assert sum(line.startswith("──") for line in lines) == 1, "\n".join(lines)
            assert sum("SIMULATED agent (no model)" in line for line in lines) == 1, "\n".join(lines)
            assert sum(line.startswith("❯") for line in lines) == 2, "\n".join(lines)  # the echo and the prompt
            assert max(len(line) for line in lines) <= cols
    finally:
        await session.stop(grace=1.0)


async def test_a_multiline_nudge_is_one_message_and_keeps_the_layout(tmp_path):
    session = Session(SessionSpec(agent="proj/crew/sim", preset="sim", cwd=tmp_path, cols=80, rows=24,
                                  argv=[sys.executable, "-m", "gastown_tui.cli", "agent", "sim", "--no-autostart"]))
    await session.start()
    try:
        await wait_text(session, "· idle")
        assert session.screen.modes.bracketed_paste  # like a real agent, the sim asks for bracketed paste
        result = await session.submit("first line\nsecond line")
        assert result.submitted and result.enters == 1, result
        text = await wait_text(session, "Acknowledged:")
        assert "Acknowledged: 'first line\\nsecond line'" in text  # one message, newline kept
        lines = session.screen.lines()
        assert sum("SIMULATED agent (no model)" in line for line in lines) == 1, "\n".join(lines)
    finally:
        await session.stop(grace=1.0)


@pytest.mark.slow
async def test_ask_waits_for_approval_then_goes_on_or_stops(tmp_path):
    town = make_town(tmp_path)
    agent, worktree, _ = sling(town, "Careful", "sim: ask Delete the old API?\nsim: write gone.txt\n    x\n"
                                                "sim: commit Remove the old API\nsim: ask Publish it?\n")
    session = start_sim(town, agent, worktree)
    await session.start()
    try:
        await wait_text(session, "Delete the old API? (y/n)")
        assert await session.wait_state({SessionState.NEEDS_APPROVAL}, timeout=20), session.state_rule
        await session.submit("maybe")
        await wait_text(session, "please answer y or n")  # not an answer: kept, and handled after the work
        await session.submit("y")
        await wait_text(session, "Publish it? (y/n)")
        assert (worktree / "gone.txt").exists()
        await session.submit("n")
        await wait_text(session, "✗ failed: declined: Publish it?")
        await wait_text(session, "Acknowledged: 'maybe'")
        assert await session.wait_state({SessionState.IDLE}, timeout=20)
    finally:
        await session.stop(grace=1.0)


async def test_a_command_running_when_the_terminal_goes_away_is_not_orphaned(tmp_path):
    psutil = pytest.importorskip("psutil")
    town = make_town(tmp_path)
    agent, worktree, _ = sling(town, "Long command", "sim: run sleep 97\n")
    session = start_sim(town, agent, worktree)
    await session.start()
    try:
        await wait_text(session, "Bash(sleep 97)")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any(
                "sleep" in p.name() for p in psutil.Process(session.pid).children(recursive=True)):
            await asyncio.sleep(0.05)
        sleepers = [p for p in psutil.Process(session.pid).children(recursive=True) if "sleep" in p.name()]
        assert sleepers, "the command did not start"
        import os
        import signal

        os.kill(session.pid, signal.SIGHUP)  # what the sim gets when its terminal closes
        assert await session.wait_exit(timeout=10) is not None
        gone, alive = psutil.wait_procs(sleepers, timeout=10)
        assert not alive, f"left running: {alive}"
    finally:
        await session.stop(grace=0.5)
