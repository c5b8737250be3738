"""Codex CLI, raw in a PTY, against the fake Responses server, with a prepared home."""
from __future__ import annotations

import time

import psutil
import pytest
from agentkit import agent_env, git_repo, require_cli
from agent_driver import Agent

from gastown_tui.sessions.homes import prepare_home

pytestmark = pytest.mark.agents

IDLE = r"Ask Codex to do anything|›\s*$"


def test_codex_runs_commands_and_asks_before_an_escalated_one(tmp_path, fake_model):
    codex = require_cli("codex")
    work = git_repo(tmp_path / "work")
    changes = prepare_home("codex", tmp_path / "home", [work], base_url=fake_model.url, environ={})
    agent = Agent([codex], cwd=work, env=agent_env(changes), log=tmp_path / "codex.raw")
    try:
        agent.wait(r"Ask Codex to do anything", timeout=30)
        agent.type_line("write hello.txt: Hello from the fake model")
        agent.wait(r"DONE wrote hello\.txt", timeout=30)
        assert (work / "hello.txt").read_text() == "Hello from the fake model\n"
        agent.type_line("run!: echo escalated > esc.txt")
        agent.wait(r"Would you like to run the following command\?", timeout=30)
        assert any(n == 7501 and "blocked" in p for n, p in agent.osc), agent.osc[-5:]
        agent.send("y")
        agent.wait(r"DONE ran echo escalated", timeout=30)
        assert (work / "esc.txt").read_text() == "escalated\n"
        agent.send("\x03")
        time.sleep(0.3)  # pacing, not a wait: two ctrl-c bytes in one read are one key press to Codex
        agent.send("\x03")
        assert agent.wait_exit(15), agent.text()
    finally:
        agent.close()
    # No detached app-server daemon outlives the session.
    left = [p for p in psutil.process_iter(["cmdline", "environ"])
            if "app-server" in " ".join(p.info["cmdline"] or []) and
            str(tmp_path) in str((p.info["environ"] or {}).get("CODEX_HOME", ""))]
    assert not left, f"codex left processes behind: {[p.info['cmdline'] for p in left]}"
