"""Gemini CLI, raw in a PTY, against the fake Gemini API, with a prepared home."""
from __future__ import annotations

import pytest
from agentkit import agent_env, git_repo, require_cli
from agent_driver import Agent

from gastown_tui.sessions.homes import prepare_home

pytestmark = pytest.mark.agents


def test_gemini_writes_and_runs_with_allow_once_dialogs(tmp_path, fake_model):
    gemini = require_cli("gemini")
    work = git_repo(tmp_path / "work")
    changes = prepare_home("gemini", tmp_path / "home", [work], base_url=fake_model.url, environ={})
    agent = Agent([gemini], cwd=work, env=agent_env(changes), log=tmp_path / "gemini.raw")
    try:
        agent.wait(r"Type your message", timeout=40)
        agent.wait(title=r"Ready", timeout=10)
        agent.type_line("write hello.txt: Hello from the fake model")
        agent.wait(r"Apply this change\?", timeout=30)
        agent.wait(title=r"Action Required", timeout=10)
        agent.send("\r")
        agent.wait(r"DONE wrote hello\.txt", timeout=30)
        assert (work / "hello.txt").read_text() == "Hello from the fake model\n"
        agent.type_line("run: echo from-shell > sh.txt && wc -c hello.txt")
        agent.wait(r"Allow execution", timeout=30)
        agent.send("\r")
        agent.wait(r"DONE ran .*26 hello\.txt", timeout=30)
        assert (work / "sh.txt").read_text() == "from-shell\n"
        agent.wait(title=r"Ready", timeout=10)
        agent.type_line("/quit")
        assert agent.wait_exit(20), agent.text()
    finally:
        agent.close()
    routers = [r for r in fake_model.requests if r["protocol"] == "gemini" and r["path"].endswith(":generateContent")]
    assert routers, "the Gemini router request was not seen"
