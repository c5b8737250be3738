"""`gastown install` and `gastown agents` with the real agent CLIs installed: detection, versions, the question."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from agentkit import require_cli

pytestmark = pytest.mark.agents

SYSTEM = os.pathsep.join(p for p in ("/usr/local/bin", "/usr/bin", "/bin") if os.path.isdir(p))


def test_install_asks_which_agent_suggesting_the_verified_claude_it_found(tmp_path):
    claude = require_cli("claude")
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), str(Path(claude).parent), SYSTEM])}
    child = pexpect.spawn(sys.executable, ["-m", "gastown_tui.cli", "install", str(tmp_path / "t")], env=env,
                          cwd=str(tmp_path), encoding="utf-8", timeout=90)
    try:
        child.expect(r"claude\s+2\.1\.\d+\s+verified")
        child.expect(r"Which agent should the Mayor, polecats and crew run\? \[claude\]")
        child.sendline("")
        child.expect(r"run claude \(" + str(Path(claude).parent))
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    cfg = json.loads((tmp_path / "t" / "settings" / "config.json").read_text())
    assert [cfg["role_agents"][r] for r in ("mayor", "polecat", "crew")] == ["claude"] * 3

    # `gastown agents` in that town: found, version, verified, roles; the older pin through the path setting.
    def agents():
        out = subprocess.run([sys.executable, "-m", "gastown_tui.cli", "agents", "--json"], cwd=tmp_path / "t",
                             env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return {r["name"]: r for r in json.loads(out.stdout)}

    row = agents()["claude"]
    version = subprocess.run([claude, "--version"], capture_output=True, text=True, timeout=60).stdout
    assert row["found"] and row["path"] == claude and row["version"] in version and row["verified_ok"] is True
    assert row["roles"] == ["mayor", "polecat", "crew"]
    old = require_cli("claude-old")
    subprocess.run([sys.executable, "-m", "gastown_tui.cli", "config", "set", "agents.claude.path", old],
                   cwd=tmp_path / "t", env=env, check=True, capture_output=True, timeout=60)
    row = agents()["claude"]
    assert row["path"] == old and row["version"] == "2.1.197" and row["verified_ok"] is True
