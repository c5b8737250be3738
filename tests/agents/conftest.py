"""Fixtures for the `agents` tests: the fake model server, installed CLIs, isolated homes.

CLIs are looked up in `.ci/cache` (what `.ci/install-agents` installs) and then on PATH.
A test whose CLI is missing is skipped with the reason. With GASTOWN_REQUIRE_AGENTS=1 (CI),
the run fails when no `agents` test passed.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
REPO = TESTS.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from fake_model import Brain, FakeModel  # noqa: E402


@pytest.fixture
def brain() -> Brain:
    return Brain()


@pytest.fixture
def fake_model(brain, tmp_path):
    with FakeModel(brain, max_seconds=240, log_path=tmp_path / "fake_model.jsonl") as fm:
        yield fm


# ---- GASTOWN_REQUIRE_AGENTS: CI fails when no agents test ran ---------------------------

_passed_agents = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if item.get_closest_marker("agents") is not None:  # user_properties travel to the xdist controller
        outcome.get_result().user_properties.append(("gastown_agents_marker", True))


def pytest_runtest_logreport(report):
    if report.when == "call" and report.passed and ("gastown_agents_marker", True) in report.user_properties:
        _passed_agents.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("GASTOWN_REQUIRE_AGENTS") == "1" and not _passed_agents:
        if hasattr(session.config, "workerinput"):
            return  # xdist workers: the controller decides
        session.exitstatus = 1
        tr = session.config.pluginmanager.get_plugin("terminalreporter")
        msg = ("GASTOWN_REQUIRE_AGENTS=1 but no `agents` test passed: install the CLIs with "
               ".ci/install-agents (see the skip reasons above)")
        if tr:
            tr.ensure_newline()
            tr.write_line(msg, red=True)
        else:
            print(msg, file=sys.stderr)
