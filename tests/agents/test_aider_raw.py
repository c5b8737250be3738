"""aider, raw in a PTY, against the fake Chat Completions server, with a prepared home."""
from __future__ import annotations

import subprocess

import pytest
from agentkit import agent_env, git_repo, require_cli
from agent_driver import Agent

from gastown_tui.sessions.homes import prepare_home

pytestmark = pytest.mark.agents


def test_aider_applies_an_edit_commits_it_and_runs_a_confirmed_command(tmp_path, fake_model):
    aider = require_cli("aider")
    work = git_repo(tmp_path / "work")
    changes = prepare_home("aider", tmp_path / "home", [work], base_url=fake_model.url, environ={})
    agent = Agent([aider], cwd=work, env=agent_env(changes), log=tmp_path / "aider.raw")
    try:
        agent.wait(r"^diff>\s*$", timeout=40)
        agent.type_line("write hello.txt: Hello from the fake model")
        agent.wait(r"Create new file\?|Applied edit to hello\.txt", timeout=30)
        if "Create new file?" in agent.text():
            agent.send("y\r")
        agent.wait(r"Applied edit to hello\.txt", timeout=30)
        agent.wait(r"^diff>\s*$", timeout=30)
        assert (work / "hello.txt").read_text() == "Hello from the fake model\n"
        log = subprocess.run(["git", "-C", str(work), "log", "--format=%s", "-1"], capture_output=True, text=True)
        assert "Apply fake-model edits" in log.stdout
        agent.type_line("run: echo from-aider > ran.txt")
        agent.wait(r"Run shell command\? \(Y\)es/\(N\)o", timeout=30)
        agent.send("y\r")
        agent.wait(r"Add .* output to the chat\?|^diff>\s*$", timeout=30)
        assert (work / "ran.txt").read_text() == "from-aider\n"
        agent.type_line("/exit")
        if not agent.wait_exit(5):
            agent.send("n\r")  # answer a pending "Add output to the chat?" first
            agent.type_line("/exit")
        assert agent.wait_exit(15), agent.text()
    finally:
        agent.close()
    assert not any("raw.githubusercontent" in str(r) for r in fake_model.requests)
