"""Every dialog the agent CLIs show that waits for a person reads as needs-approval, from real screens.

Each test drives the real CLI (the newest pin, and the older one kept where its rules differ) in a PTY
against the fake model server into one dialog, and asks the preset's rules, for the installed version,
what that screen is. Nothing from a recorded screen is used: the screens are the programs' own, today.
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from agentkit import agent_env, git_repo, require_cli
from agent_driver import Agent

from gastown_tui.sessions.cli_version import installed_version
from gastown_tui.sessions.homes import prepare_home
from gastown_tui.sessions.presets import load_presets
from gastown_tui.sessions.rules import Detector, Observation
from gastown_tui.sessions.states import SessionState

pytestmark = pytest.mark.agents

CLAUDES = ["claude", "claude-old"]
KEY = "sk-ant-test-0123456789-abcdefghijklmnopqrstuvwxyz"


def _start(tmp_path: Path, fake_model, cli: str, *, args=(), trusted=True, drop=(), extra=None, preset=None):
    path = require_cli(cli)
    base = cli.removesuffix("-old")
    work = git_repo(tmp_path / "work")
    seeded = [work] if trusted else [git_repo(tmp_path / "elsewhere")]
    changes = prepare_home(base, tmp_path / "home", seeded, base_url=fake_model.url, environ={})
    for k in drop:
        changes[k] = None
    agent = Agent([path, *args], cwd=work, env=agent_env(changes, extra), log=tmp_path / f"{cli}.raw")
    version = installed_version(path)
    detector = Detector(list(load_presets()[preset or base].rules), preset=base, version=version)
    return agent, detector, version, work


def _read(agent: Agent, detector: Detector):
    with agent._lock:
        osc = next((p.split(":")[0].partition("=")[2] for n, p in reversed(agent.osc) if n == 7501), None)
        obs = Observation(agent.screen.lines(), agent.screen.cursor.y, agent.screen.title, osc,
                          time.monotonic(), time.monotonic())
    return detector.classify(obs)


def _expect(agent, detector, state: SessionState, rule: str, timeout: float = 10.0):
    """The rules say STATE by RULE for this screen within TIMEOUT (the screen may still be settling)."""
    end = time.monotonic() + timeout
    seen = None
    while time.monotonic() < end:
        seen = _read(agent, detector)
        if seen[0] is state and seen[1] == rule:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"wanted {state} [{rule}], the rules say {seen}; title={agent.title!r}; "
                         f"screen:\n{agent.text()}")


@pytest.mark.parametrize("cli", CLAUDES)
def test_claude_folder_trust_dialog_needs_approval(tmp_path, fake_model, cli):
    agent, detector, version, _ = _start(tmp_path, fake_model, cli, trusted=False)
    try:
        agent.wait(r"trust this folder|one you trust", timeout=30)
        _expect(agent, detector, SessionState.NEEDS_APPROVAL, "claude.needs-approval.trust")
    finally:
        agent.close()


@pytest.mark.parametrize("cli", CLAUDES)
def test_claude_api_key_dialog_needs_approval(tmp_path, fake_model, cli):
    agent, detector, version, _ = _start(tmp_path, fake_model, cli, drop=["ANTHROPIC_AUTH_TOKEN"],
                                         extra={"ANTHROPIC_API_KEY": KEY})
    try:
        agent.wait(r"Detected a custom API key", timeout=30)
        _expect(agent, detector, SessionState.NEEDS_APPROVAL, "claude.needs-approval.api-key")
    finally:
        agent.close()


@pytest.mark.parametrize("cli", CLAUDES)
def test_claude_not_logged_in_needs_a_person(tmp_path, fake_model, cli):
    agent, detector, version, _ = _start(tmp_path, fake_model, cli, drop=["ANTHROPIC_AUTH_TOKEN"])
    try:
        if cli == "claude":  # 2.1.337 finds out at the first prompt
            _expect(agent, detector, SessionState.IDLE, "claude.idle.footer", timeout=30)
            agent.type_line("hello")
        agent.wait(r"Not logged in", timeout=30)  # 2.1.197 says so in its footer from the start
        _expect(agent, detector, SessionState.NEEDS_APPROVAL, "claude.needs-approval.login")
    finally:
        agent.close()


@pytest.mark.parametrize("cli", CLAUDES)
def test_claude_write_permission_dialog_needs_approval_then_idle(tmp_path, fake_model, cli):
    agent, detector, version, work = _start(tmp_path, fake_model, cli, args=["--permission-mode", "default"])
    try:
        _expect(agent, detector, SessionState.IDLE, "claude.idle.footer", timeout=30)
        agent.type_line("write f.txt: from the dialog test")
        agent.wait(r"Do you want to create f\.txt\?", timeout=30)
        _expect(agent, detector, SessionState.NEEDS_APPROVAL, "claude.needs-approval.dialog")
        agent.wait_idle_output(0.5)  # a key pressed while the dialog is still being drawn can be dropped
        agent.send("\r")  # "1. Yes" is preselected
        agent.wait(r"DONE wrote f\.txt", timeout=30)
        _expect(agent, detector, SessionState.IDLE, "claude.idle.footer")
    finally:
        agent.close()
    assert (work / "f.txt").read_text() == "from the dialog test\n"


def test_claude_auto_mode_dialogs_need_approval_and_answering_runs_the_command(tmp_path, fake_model):
    """2.1.337's default auto mode behind a gateway: "Auto mode can't check actions … Enter to stay in auto
    mode", then a per-action "Do you want to proceed?" preselected on No. Neither is idle."""
    agent, detector, version, work = _start(tmp_path, fake_model, "claude")
    try:
        _expect(agent, detector, SessionState.IDLE, "claude.idle.footer", timeout=30)
        assert "auto mode on" in agent.text(), agent.text()
        agent.type_line("run: git push origin main; echo answered > answered.txt")
        agent.wait(r"Enter to stay in auto mode", timeout=30)
        _expect(agent, detector, SessionState.NEEDS_APPROVAL, "claude.needs-approval.auto-mode")
        agent.wait_idle_output(0.5)
        agent.send("\r")  # stay in auto mode
        agent.wait(r"Do you want to proceed\?", timeout=20)
        state, rule, _ = _read(agent, detector)
        assert state is SessionState.NEEDS_APPROVAL and rule.startswith("claude.needs-approval."), (state, rule)
        agent.wait_idle_output(0.5)
        agent.send("\x1b[B")  # down to "Yes"
        agent.wait(r"❯ Yes", timeout=10)
        agent.send("\r")
        agent.wait(r"DONE ran", timeout=30)
        _expect(agent, detector, SessionState.IDLE, "claude.idle.footer")
    finally:
        agent.close()
    assert (work / "answered.txt").read_text() == "answered\n"


@pytest.mark.parametrize("cli", CLAUDES)
def test_claude_working_spinner_and_api_retry_rules(tmp_path, fake_model, cli):
    agent, detector, version, _ = _start(tmp_path, fake_model, cli, args=["--dangerously-skip-permissions"],
                                         extra={"IS_SANDBOX": "1"})
    try:
        _expect(agent, detector, SessionState.IDLE, "claude.idle.footer", timeout=30)
        agent.type_line("fail 529")
        agent.wait(r"[Rr]etrying in \d+s · attempt", timeout=30)
        _expect(agent, detector, SessionState.WORKING, "claude.working.api-retry")
        # The title spinner of this version is one the title rule knows (checked with the other rules off).
        title_only = Detector([r for r in detector.rules if r.title is not None and r.state is SessionState.WORKING],
                              version=version)
        end = time.monotonic() + 10
        while time.monotonic() < end and _read(agent, title_only)[1] != "claude.working.title-spinner":
            time.sleep(0.1)
        assert _read(agent, title_only)[1] == "claude.working.title-spinner", agent.title
    finally:
        agent.close()


def test_codex_folder_trust_dialog_needs_approval(tmp_path, fake_model):
    agent, detector, version, _ = _start(tmp_path, fake_model, "codex", trusted=False)
    try:
        agent.wait(r"Trust this folder\?|Do you trust", timeout=30)
        _expect(agent, detector, SessionState.NEEDS_APPROVAL, "codex.needs-approval.trust")
    finally:
        agent.close()


def test_codex_command_approval_dialog_needs_approval(tmp_path, fake_model):
    agent, detector, version, work = _start(tmp_path, fake_model, "codex")
    try:
        agent.wait(r"Ask Codex", timeout=30)
        agent.type_line("run!: echo esc > e.txt")
        agent.wait(r"Would you like to run the following command\?", timeout=30)
        state, rule, _ = _expect(agent, detector, SessionState.NEEDS_APPROVAL, "codex.osc7501.blocked")
        agent.wait_idle_output(0.5)
        agent.send("y")
        agent.wait(r"DONE ran", timeout=30)
    finally:
        agent.close()
    assert (work / "e.txt").read_text() == "esc\n"


def test_gemini_trust_dialog_needs_approval(tmp_path, fake_model):
    path = require_cli("gemini")
    work = git_repo(tmp_path / "work")
    changes = prepare_home("gemini", tmp_path / "home", [git_repo(tmp_path / "elsewhere")],
                           base_url=fake_model.url, environ={})
    settings = tmp_path / "home" / ".gemini" / "settings.json"
    settings.write_text(settings.read_text().replace('"enabled": false', '"enabled": true', 1))
    agent = Agent([path], cwd=work, env=agent_env(changes), log=tmp_path / "gemini.raw")
    detector = Detector(list(load_presets()["gemini"].rules), preset="gemini", version=installed_version(path))
    try:
        agent.wait(r"Do you trust the files in this folder\?", timeout=40)
        _expect(agent, detector, SessionState.NEEDS_APPROVAL, "gemini.needs-approval.trust")
    finally:
        agent.close()


def test_versions_read_from_the_installed_clis():
    """What `--version` says is what the rules are chosen by (and what CI installs)."""
    for cli in ("claude", "claude-old", "codex"):
        path = require_cli(cli)
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
        assert installed_version(path) and installed_version(path) in out, (cli, out)


def test_codex_login_screen_needs_a_person(tmp_path, fake_model):
    """Without a provider of its own (no endpoint configured), Codex opens its sign-in screen."""
    path = require_cli("codex")
    work = git_repo(tmp_path / "work")
    changes = prepare_home("codex", tmp_path / "home", [work], base_url=fake_model.url, environ={})
    config = tmp_path / "home" / ".codex" / "config.toml"
    kept = [ln for ln in config.read_text().splitlines() if not ln.startswith(("model", "model_provider"))]
    text = "\n".join(kept)
    config.write_text(text.split("[model_providers.gastown]")[0] + "[features]" + text.split("[features]", 1)[1])
    changes["OPENAI_API_KEY"] = None
    agent = Agent([path], cwd=work, env=agent_env(changes), log=tmp_path / "codex.raw")
    detector = Detector(list(load_presets()["codex"].rules), preset="codex", version=installed_version(path))
    try:
        agent.wait(r"Sign in with ChatGPT", timeout=40)
        _expect(agent, detector, SessionState.NEEDS_APPROVAL, "codex.needs-approval.login")
    finally:
        agent.close()


def test_gemini_auth_dialog_needs_a_person(tmp_path, fake_model):
    """With no auth type chosen and no key, Gemini CLI asks how to authenticate."""
    import json

    path = require_cli("gemini")
    work = git_repo(tmp_path / "work")
    changes = prepare_home("gemini", tmp_path / "home", [work], base_url=fake_model.url, environ={})
    settings = tmp_path / "home" / ".gemini" / "settings.json"
    data = json.loads(settings.read_text())
    data["security"].pop("auth", None)
    settings.write_text(json.dumps(data))
    for k in ("GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL"):
        changes[k] = None
    agent = Agent([path], cwd=work, env=agent_env(changes), log=tmp_path / "gemini.raw")
    detector = Detector(list(load_presets()["gemini"].rules), preset="gemini", version=installed_version(path))
    try:
        agent.wait(r"How would you like to authenticate", timeout=60)
        _expect(agent, detector, SessionState.NEEDS_APPROVAL, "gemini.needs-approval.login")
    finally:
        agent.close()
