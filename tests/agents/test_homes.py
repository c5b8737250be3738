"""Per-agent homes: seeded only inside the town, never the user's config, no credential on disk."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gastown_tui.sessions.homes import HomeError, home_dir, home_env, prepare_home

KEY = "sk-ant-secret-0123456789-abcdefghijklmnop"


def _all_text(root: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


def test_claude_home_is_seeded_and_the_key_stays_in_the_environment(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    home = home_dir(tmp_path / "town", "gastown--polecats--nux")
    env = prepare_home("claude", home, [work], environ={"ANTHROPIC_API_KEY": KEY})
    assert home == tmp_path / "town" / ".runtime" / "homes" / "gastown--polecats--nux"
    cfg = json.loads((home / ".claude" / ".claude.json").read_text())
    assert cfg["hasCompletedOnboarding"] is True
    assert cfg["projects"][str(work.resolve())]["hasTrustDialogAccepted"] is True
    settings = json.loads((home / ".claude" / "settings.json").read_text())
    assert settings["apiKeyHelper"] == "printenv GASTOWN_ANTHROPIC_API_KEY"
    assert env["CLAUDE_CONFIG_DIR"] == str(home / ".claude") and env["HOME"] == str(home)
    assert env["ANTHROPIC_API_KEY"] == "" and env["GASTOWN_ANTHROPIC_API_KEY"] == KEY
    assert KEY not in _all_text(home) and KEY[-20:] not in _all_text(home)


def test_preparing_again_keeps_what_the_cli_wrote(tmp_path):
    home = tmp_path / "h"
    prepare_home("claude", home, [tmp_path], environ={})
    cfg_path = home / ".claude" / ".claude.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["numStartups"] = 7
    cfg_path.write_text(json.dumps(cfg))
    prepare_home("claude", home, [tmp_path / "other"], environ={})
    again = json.loads(cfg_path.read_text())
    assert again["numStartups"] == 7 and len(again["projects"]) == 2


def test_a_broken_config_is_named_and_left_as_it_was(tmp_path):
    home = tmp_path / "h"
    (home / ".gemini").mkdir(parents=True)
    bad = home / ".gemini" / "settings.json"
    bad.write_text('{\n  "security": {,\n}')
    with pytest.raises(HomeError, match=r"settings\.json: line 2 column 16: not valid JSON"):
        prepare_home("gemini", home, [tmp_path], environ={})
    assert bad.read_text() == '{\n  "security": {,\n}'


def test_the_users_own_home_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(HomeError, match="user's own home"):
        prepare_home("codex", tmp_path, [tmp_path], environ={})
    assert list(tmp_path.iterdir()) == []


def test_codex_gets_its_own_provider_no_daemon_and_a_trusted_worktree(tmp_path):
    work = tmp_path / "w"
    work.mkdir()
    env = prepare_home("codex", tmp_path / "h", [work], environ={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    cfg = (tmp_path / "h" / ".codex" / "config.toml").read_text()
    import tomllib

    data = tomllib.loads(cfg)
    assert data["model_providers"]["gastown"]["base_url"] == "http://127.0.0.1:9/v1"
    assert data["features"]["daemon_auto_start"] is False
    assert data["projects"][str(work.resolve())]["trust_level"] == "trusted"
    assert env["CODEX_HOME"] == str(tmp_path / "h" / ".codex")
    assert env["OPENAI_API_KEY"] == "gastown-local-endpoint"  # a placeholder for a local endpoint only


def test_gemini_and_aider_settings(tmp_path):
    env = prepare_home("gemini", tmp_path / "g", [tmp_path], base_url="http://127.0.0.1:9", environ={})
    s = json.loads((tmp_path / "g" / ".gemini" / "settings.json").read_text())
    assert s["security"]["auth"]["selectedType"] == "gemini-api-key"
    assert env["GOOGLE_GEMINI_BASE_URL"] == "http://127.0.0.1:9"
    env = prepare_home("aider", tmp_path / "a", [tmp_path], base_url="http://127.0.0.1:9", environ={})
    conf = (tmp_path / "a" / ".aider.conf.yml").read_text()
    assert "edit-format: diff" in conf and 'model: "openai/fake-model"' in conf
    assert "openai/fake-model" in json.loads((tmp_path / "a" / ".aider.model.metadata.json").read_text())
    assert env["OPENAI_API_BASE"] == "http://127.0.0.1:9/v1"


def test_home_env_only_for_known_clis_and_git_identity_by_reference(tmp_path, monkeypatch):
    assert home_env(tmp_path, "mayor", "bash", tmp_path) == {}
    user = tmp_path / "user"
    user.mkdir()
    (user / ".gitconfig").write_text("[user]\n\tname = U\n")
    monkeypatch.setenv("HOME", str(user))
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    env = home_env(tmp_path / "town", "mayor", "/opt/x/claude", tmp_path, environ=dict(os.environ))
    gitcfg = (Path(env["HOME"]) / ".gitconfig").read_text()
    assert f"path = {user / '.gitconfig'}" in gitcfg and "name = U" not in gitcfg
    assert (user / ".gitconfig").read_text() == "[user]\n\tname = U\n"


def test_opencode_provider_reads_its_key_from_the_environment(tmp_path):
    env = prepare_home("opencode", tmp_path / "o", [tmp_path], base_url="http://127.0.0.1:9",
                       environ={"OPENAI_API_KEY": "sk-real-secret"})
    cfg = json.loads((tmp_path / "o" / ".config" / "opencode" / "opencode.json").read_text())
    provider = cfg["provider"]["gastown"]
    assert provider["options"] == {"baseURL": "http://127.0.0.1:9/v1", "apiKey": "{env:OPENAI_API_KEY}"}
    assert cfg["model"] == "gastown/fake-model" and cfg["autoupdate"] is False
    assert "OPENAI_API_KEY" not in env  # the user's key is used as it is, never written
    assert "sk-real-secret" not in _all_text(tmp_path / "o")
