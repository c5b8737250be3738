"""GT_SIM_PACE slows the simulated agent down so a person can watch it (the app demo sets it)."""
import subprocess
import time

import pytest

from gastown_tui.sim.actions import SimFailure, Workspace
from gastown_tui.sim.work import run_actions


class Log:
    def __init__(self):
        self.lines = []

    def log(self, text, style=""):
        self.lines.append(text)

    def activity(self, text):
        pass


@pytest.fixture
def repo(tmp_path):
    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True)
    return tmp_path


SCRIPT = "sim: run true\nsim: run true\nsim: run true\n"


def test_each_action_is_followed_by_the_pause(repo, monkeypatch):
    monkeypatch.setenv("GT_SIM_PACE", "0.3")
    start = time.monotonic()
    assert run_actions(SCRIPT, "bead", False, Workspace(repo, lambda line: None), Log()) == 3
    assert time.monotonic() - start >= 0.9
    monkeypatch.delenv("GT_SIM_PACE")
    start = time.monotonic()
    run_actions(SCRIPT, "bead", False, Workspace(repo, lambda line: None), Log())
    assert time.monotonic() - start < 0.9


def test_an_interrupt_cuts_the_pause_short(repo, monkeypatch):
    monkeypatch.setenv("GT_SIM_PACE", "30")
    start = time.monotonic()
    interrupted = lambda: time.monotonic() > start + 0.5  # noqa: E731  (Esc pressed half a second in)
    run_actions("sim: run true\n", "bead", False, Workspace(repo, lambda line: None, stop=interrupted), Log())
    assert time.monotonic() - start < 5


def test_a_bad_pace_is_an_error_naming_it(repo, monkeypatch):
    monkeypatch.setenv("GT_SIM_PACE", "fast")
    with pytest.raises(SimFailure, match="GT_SIM_PACE.*'fast'"):
        run_actions("sim: run true\n", "bead", False, Workspace(repo, lambda line: None), Log())
