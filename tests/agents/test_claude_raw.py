"""Claude Code, raw in a PTY, against the fake Anthropic server, with a prepared home."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from agentkit import agent_env, git_repo, require_cli
from agent_driver import Agent

from gastown_tui.sessions.homes import prepare_home

pytestmark = pytest.mark.agents

# 2.1.197: "? for shortcuts"; 2.1.337 shows the permission mode ("⏵⏵ accept edits on (shift+tab to cycle)").
IDLE = r"\? for shortcuts|⏵⏵ [a-z ]+ on \(shift\+tab|⏸ plan mode on"


def _claude(tmp_path: Path, fake_model, environ=None, args=(), cli="claude"):
    claude = require_cli(cli)
    work = git_repo(tmp_path / "work")
    home = tmp_path / "home"
    changes = prepare_home("claude", home, [work], base_url=fake_model.url, environ=environ or {})
    agent = Agent([claude, *args], cwd=work, env=agent_env(changes), log=tmp_path / "claude.raw")
    return agent, work


@pytest.mark.parametrize("cli", ["claude", "claude-old"])
def test_claude_writes_and_runs_tools_with_permission_dialogs(tmp_path, fake_model, cli):
    real_cfg = Path(os.path.expanduser("~/.claude.json"))
    before = real_cfg.stat().st_mtime_ns if real_cfg.exists() else None
    # The mode that asks before every write and command (2.1.337's default, auto mode, asks only for some).
    agent, work = _claude(tmp_path, fake_model, args=["--permission-mode", "default"], cli=cli)
    try:
        agent.wait(IDLE, timeout=30)
        agent.type_line("write hello.txt: Hello from the fake model")
        agent.wait(r"Do you want to create hello\.txt\?", timeout=30)
        agent.wait_idle_output(0.5)  # a key pressed while the dialog is still being drawn can be dropped
        agent.send("\r")  # "1. Yes" is preselected
        agent.wait(r"DONE wrote hello\.txt", timeout=30)
        assert (work / "hello.txt").read_text() == "Hello from the fake model\n"
        agent.type_line("run: echo from-bash > bash.txt && wc -c hello.txt")
        agent.wait(r"Do you want to proceed\?", timeout=30)
        agent.wait_idle_output(0.5)
        agent.send("\r")
        agent.wait(r"DONE ran .* output: 26 hello\.txt", timeout=30)
        assert (work / "bash.txt").read_text() == "from-bash\n"
        agent.wait(IDLE, timeout=10)
        agent.type_line("/exit")
        assert agent.wait_exit(15), agent.text()
    finally:
        agent.close()
    reqs = [r for r in fake_model.requests if r["protocol"] == "anthropic"]
    assert reqs and all(r["headers"].get("Authorization") == "<redacted>" for r in reqs if "Authorization" in r["headers"])
    assert any(r["conv"] and r["conv"]["cwd"] == str(work) for r in reqs)
    after = real_cfg.stat().st_mtime_ns if real_cfg.exists() else None
    assert before == after, "the user's own ~/.claude.json was touched"


def test_claude_uses_an_api_key_from_the_environment_without_the_key_dialog(tmp_path, fake_model):
    key = "sk-ant-test-0123456789-abcdefghijklmnopqrstuvwxyz"
    agent, work = _claude(tmp_path, fake_model, environ={"ANTHROPIC_API_KEY": key},
                          args=["--dangerously-skip-permissions", "write k.txt: keyed"])
    try:
        agent.wait(r"DONE wrote k\.txt", timeout=30)
        assert "Detected a custom API key" not in agent.raw.decode(errors="replace")
    finally:
        agent.close()
    assert (work / "k.txt").read_text() == "keyed\n"
    want = hashlib.sha256(key.encode()).hexdigest()[:16]
    main = [r for r in fake_model.requests if r["conv"] and r["conv"]["has_tools"]]
    assert main and all(r["auth_sha"].get("x-api-key") == want for r in main)
    home_files = [p for p in (tmp_path / "home").rglob("*") if p.is_file()]
    assert not any(key[-20:] in p.read_text(errors="replace") for p in home_files)
