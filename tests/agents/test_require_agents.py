"""With GASTOWN_REQUIRE_AGENTS=1 (as CI sets it) a run in which no `agents` test passed fails."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ONE_PLAIN_TEST = "tests/agents/test_homes.py::test_gemini_and_aider_settings"  # not marked `agents`


def _run(tmp_path, require: str | None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GASTOWN_REQUIRE"))}
    if require is not None:
        env["GASTOWN_REQUIRE_AGENTS"] = require
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           f"--basetemp={tmp_path / 'bt'}", ONE_PLAIN_TEST],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_a_run_without_any_agents_test_fails_when_agents_are_required(tmp_path):
    out = _run(tmp_path, "1")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "GASTOWN_REQUIRE_AGENTS=1 but no `agents` test passed" in out.stdout
    assert "1 passed" in out.stdout


def test_the_same_run_passes_when_agents_are_not_required(tmp_path):
    out = _run(tmp_path, None)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "GASTOWN_REQUIRE_AGENTS" not in out.stdout


def test_a_missing_cli_skips_with_the_reason(monkeypatch, tmp_path):
    import _pytest.outcomes
    import agentkit
    import pytest

    monkeypatch.setitem(agentkit.CANDIDATES, "codex", [tmp_path / "nowhere" / "codex"])
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(_pytest.outcomes.Skipped, match=r"codex is not installed \(run \.ci/install-agents codex"):
        agentkit.require_cli("codex")
