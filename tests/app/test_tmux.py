"""The real thing in a real terminal: `gastown` inside tmux (160x48) on the test town.

Keys go in with `tmux send-keys`, the screen comes out with `tmux capture-pane`.
Checks the panels, an agent switch, and an agent's echo in its live pane, then
quits cleanly (prefix d to leave the pane, ctrl+q) and checks no agent is left.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

GASTOWN = Path(sys.executable).parent / "gastown"


def agents_of(town: Path, lasting: bool = False) -> list[int]:
    """Pids of processes running as agents of TOWN (GT_TOWN in their environment). LASTING: only the town's
    standing agents' own programs (the Mayor, Deacon, Witness, Refinery: each leads its terminal's session),
    not polecats, which end when their work is done, nor the short commands an agent runs."""
    import psutil

    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            env = proc.environ()
            agent = env.get("GT_AGENT")
            if env.get("GT_TOWN") != str(town) or not agent:
                continue
            if not lasting or ("/polecats/" not in agent and os.getsid(proc.pid) == proc.pid):
                found.append(proc.pid)
        except (psutil.Error, OSError):
            continue
    return found


class Tmux:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str, check: bool = True) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              check=check).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "app")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "app", *keys)

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        end = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < end:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear within {timeout}s; the screen was:\n{screen}")


@pytest.fixture
def tmux():
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    t = Tmux(f"gastown-test-{os.getpid()}")
    yield t
    t.run("kill-server", check=False)


def test_gastown_in_tmux_panels_switch_and_echo(tmux, fresh_town):
    assert GASTOWN.exists(), f"{GASTOWN} missing: install the project (pip install -e .)"
    tmux.run("new-session", "-d", "-s", "app", "-x", "160", "-y", "48", "-c", str(fresh_town),
             f"env -u COLUMNS -u LINES {GASTOWN}; echo GASTOWN-EXITED $?; sleep 60")
    tmux.wait_for("Activity")
    screen = tmux.wait_for("Inbox (3 unread)")
    for panel in ("Agents", "Hook", "Convoys", "Inbox (3 unread)", "snaptown", "rig alpha", "Friendlier greetings"):
        assert panel in screen, f"{panel!r} not on screen:\n{screen}"
    # launch focus: the centre follows the first agent whose session goes live: the Mayor, the town's front
    # door, which the town's server starts (and the tree lists first)
    screen = tmux.wait_for("SIMULATED", timeout=30)
    assert re.search(r"╭─ 1 \S+ mayor/ ─", screen), screen

    tmux.keys("g")  # fuzzy go-to (the factory runs, so agent numbers may shift: go by name)
    tmux.wait_for("Go to agent")
    tmux.keys("s", "l", "i", "t", "Enter")
    tmux.wait_for("alpha/polecats/slit ─")
    tmux.keys("1")
    tmux.wait_for("mayor/ ─")

    tmux.wait_for("SIMULATED", timeout=30)  # the Mayor's session (the simulated agent), already running
    tmux.keys("Enter")  # type into the pane
    tmux.wait_for("mayor/ ━")  # the focused pane's heavy border: keys now go to the agent
    tmux.keys("h", "e", "l", "l", "o", " ", "t", "m", "u", "x")
    screen = tmux.wait_for("hello tmux")
    assert "❯ hello tmux" in screen

    tmux.keys("C-b", "n")  # the prefix hands `n` to the app: next agent
    tmux.wait_for("deacon/ ─")

    running = agents_of(fresh_town, lasting=True)  # (a demo polecat may finish its work meanwhile)
    assert running, "no agent process found for this town while the app ran"
    tmux.keys("C-q")  # detach: the app goes, the town's server keeps every agent running
    screen = tmux.wait_for("GASTOWN-EXITED", timeout=20)
    assert "GASTOWN-EXITED 0" in screen, screen
    assert set(agents_of(fresh_town, lasting=True)) >= set(running), "an agent stopped when the app detached"
    down = subprocess.run([str(GASTOWN), "down", "--town", str(fresh_town)], capture_output=True, text=True, timeout=90)
    assert down.returncode == 0, down.stderr
    assert agents_of(fresh_town) == [], "agent processes left behind after gastown down"
