"""Fixtures for the `agents` tests: the fake model server, installed CLIs, isolated homes.

CLIs are looked up in `.ci/cache` (what `.ci/install-agents` installs) and then on PATH.
A test whose CLI is missing is skipped with the reason. With GASTOWN_REQUIRE_AGENTS=1 (CI),
the run fails when no `agents` test passed.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
REPO = TESTS.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from fake_model import Brain, FakeModel  # noqa: E402

CACHE = REPO / ".ci" / "cache"
CANDIDATES = {
    "claude": [CACHE / "npm/node_modules/.bin/claude"],
    "codex": [CACHE / "npm/node_modules/.bin/codex"],
    "gemini": [CACHE / "npm/node_modules/.bin/gemini"],
    "aider": [CACHE / "aider-venv/bin/aider"],
}
# Variables that could carry a real credential or point a CLI elsewhere: never passed to a test agent.
SCRUB = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL",
         "OPENAI_API_BASE", "GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL", "CODEX_HOME",
         "CLAUDE_CONFIG_DIR", "GOOGLE_APPLICATION_CREDENTIALS", "TMUX", "CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT")


def find_cli(name: str) -> str | None:
    for path in CANDIDATES[name]:
        if path.exists() and os.access(path, os.X_OK):
            return str(path)
    return shutil.which(name)


def require_cli(name: str) -> str:
    path = find_cli(name)
    if path is None:
        pytest.skip(f"{name} is not installed (run .ci/install-agents {name}; looked in "
                    f"{', '.join(str(p) for p in CANDIDATES[name])} and PATH)")
    return path


def agent_env(changes: dict[str, str | None], extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without credentials, plus a prepared home's changes."""
    env = {k: v for k, v in os.environ.items() if k not in SCRUB and not k.startswith("PYTEST_")}
    env.update({"TERM": "xterm-256color", "COLORTERM": "truecolor", "LANG": "C.UTF-8"})
    for k, v in changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    env.update(extra or {})
    return env


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    (path / "README.md").write_text("# demo\n")
    subprocess.run(["git", "-C", str(path), "add", "README.md"], check=True)
    subprocess.run(["git", "-C", str(path), "commit", "-q", "-m", "init"], check=True)
    return path.resolve()


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
