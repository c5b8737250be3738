"""Onboarding a town: `gastown install --agent`, its question in a terminal, `gastown config`, `gastown agents`,
`gastown bd show` of a rig bead from the town root, and the actor when USER is unset."""
from __future__ import annotations

import json
import os
import sys

import pexpect
import pytest

from town_testkit import gastown

NO_AGENTS_PATH = os.pathsep.join(p for p in ("/usr/local/bin", "/usr/bin", "/bin") if os.path.isdir(p))


def _no_agent_clis() -> bool:
    import shutil

    return not any(shutil.which(c, path=NO_AGENTS_PATH) for c in ("claude", "codex", "gemini", "aider", "opencode", "amp"))


def test_install_with_agent_sets_the_talking_roles_and_says_where_patrols_run(tmp_path):
    out = gastown("install", str(tmp_path / "t"), "--agent", "codex", cwd=tmp_path).stdout
    cfg = json.loads((tmp_path / "t" / "settings" / "config.json").read_text())
    assert {r: cfg["role_agents"][r] for r in ("mayor", "polecat", "crew")} == dict.fromkeys(
        ("mayor", "polecat", "crew"), "codex")
    assert cfg["default_agent"] == "codex"
    assert "patrols" in out and "codex" in out


def test_install_with_an_unknown_agent_fails_naming_the_known_ones_and_creates_nothing(tmp_path):
    proc = gastown("install", str(tmp_path / "t"), "--agent", "claud", cwd=tmp_path, check=False)
    assert proc.returncode != 0 and "claud" in proc.stderr and "claude" in proc.stderr
    assert not (tmp_path / "t").exists()


@pytest.mark.skipif(not _no_agent_clis(), reason="an agent CLI is installed in /usr/bin or /bin")
def test_install_asks_in_a_terminal_and_defaults_to_sim_said_plainly_when_no_cli_is_found(tmp_path):
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{NO_AGENTS_PATH}"}
    child = pexpect.spawn(sys.executable, ["-m", "gastown_tui.cli", "install", str(tmp_path / "t")], env=env,
                          cwd=str(tmp_path), encoding="utf-8", timeout=60)
    try:
        child.expect(r"claude\s+not found")
        child.expect(r"Which agent should the Mayor, polecats and crew run\? \[sim\]")
        child.sendline("")
        child.expect("simulated agent `sim`")
        child.expect("no agent CLI was found on PATH")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert json.loads((tmp_path / "t" / "settings" / "config.json").read_text())["role_agents"]["polecat"] == "sim"


def test_install_without_a_terminal_uses_sim_and_says_so(tmp_path):
    out = gastown("install", str(tmp_path / "t"), cwd=tmp_path, env={"PATH": f"{os.path.dirname(sys.executable)}"
                                                                    f"{os.pathsep}{NO_AGENTS_PATH}"}).stdout
    assert "simulated agent `sim`" in out and "without a terminal or --agent" in out


def test_config_set_get_list_unset_with_checks_naming_the_key(town, tmp_path):
    def cfg(*args, check=True):
        return gastown("config", *args, cwd=town.root, check=check)

    assert cfg("set", "role_agents.polecat", "claude").returncode == 0
    assert cfg("get", "role_agents.polecat").stdout.strip() == "claude"
    bad = cfg("set", "role_agents.polecat", "claud", check=False)
    assert bad.returncode != 0 and "role_agents.polecat" in bad.stderr and "unknown agent preset 'claud'" in bad.stderr
    bad = cfg("set", "role_agents.janitor", "claude", check=False)
    assert bad.returncode != 0 and "role_agents.janitor" in bad.stderr
    bad = cfg("set", "agents.claude.path", str(tmp_path / "nowhere" / "claude"), check=False)
    assert bad.returncode != 0 and "agents.claude.path" in bad.stderr and "not an executable" in bad.stderr
    bad = cfg("set", "agents.claude.base_url", "localhost:8080", check=False)
    assert bad.returncode != 0 and "agents.claude.base_url" in bad.stderr
    bad = cfg("set", "timers.witness_patrol", "soon", check=False)
    assert bad.returncode != 0 and "timers.witness_patrol" in bad.stderr
    bad = cfg("set", "agents.claude.argv", '"claude --flag"', check=False)
    assert bad.returncode != 0 and "argv" in bad.stderr
    bad = cfg("set", "colour", "red", check=False)
    assert bad.returncode != 0 and "unknown setting 'colour'" in bad.stderr
    before = town.settings_path.read_bytes()
    assert cfg("set", "max_polecats", "0", check=False).returncode != 0
    assert town.settings_path.read_bytes() == before  # a refused value writes nothing

    cfg("set", "agents.claude.path", sys.executable)  # any executable file: checked, not run
    cfg("set", "agents.claude.base_url", "http://127.0.0.1:9/")
    listed = cfg("list").stdout
    assert f"* agents.claude.path = {sys.executable}" in listed and "* agents.claude.base_url = http://127.0.0.1:9" in listed
    cfg("set", "timers.witness_patrol", "2m")
    assert "* timers.witness_patrol = 2m" in cfg("list").stdout
    cfg("unset", "timers.witness_patrol")
    assert "  timers.witness_patrol = 5m" in cfg("list").stdout  # the default again, listed unmarked
    from gastown_tui.sessions.presets import load_presets

    preset = load_presets(town.root)["claude"]
    assert preset.argv[0] == sys.executable and preset.resume_argv[0] == sys.executable
    assert preset.env["GASTOWN_MODEL_BASE_URL"] == "http://127.0.0.1:9"
    assert cfg("unset", "agents.claude.path").returncode == 0
    assert load_presets(town.root)["claude"].argv[0] == "claude"
    assert json.loads(cfg("list", "--json").stdout)["role_agents.polecat"] == "claude"


def test_agents_lists_every_preset_with_roles(town):
    gastown("config", "set", "role_agents.polecat", "gemini", cwd=town.root)
    rows = json.loads(gastown("agents", "--json", cwd=town.root, env={"PATH": NO_AGENTS_PATH}).stdout)
    by = {r["name"]: r for r in rows}
    assert set(by) >= {"claude", "codex", "gemini", "aider", "opencode", "amp", "sim", "shell"}
    assert by["gemini"]["roles"] == ["polecat"] and "mayor" in by["sim"]["roles"]
    assert by["claude"]["verified"] and by["sim"]["found"]
    if _no_agent_clis():
        assert not by["claude"]["found"] and by["claude"]["path"] is None
        text = gastown("agents", cwd=town.root, env={"PATH": NO_AGENTS_PATH}).stdout
        assert "claude not on PATH" in text and "gastown config set agents.NAME.path" in text


def test_bd_show_of_a_rig_bead_from_the_town_root_and_actor_without_user(rig, town):
    bead = gastown("bd", "create", "Rig work", cwd=rig.path).stdout.strip()
    assert bead.startswith(rig.prefix if hasattr(rig, "prefix") else bead.split("-")[0])
    shown = gastown("bd", "show", bead, "--json", cwd=town.root)
    assert json.loads(shown.stdout)["title"] == "Rig work"
    gastown("bd", "update", bead, "--status", "in_progress", cwd=town.root)
    assert json.loads(gastown("bd", "show", bead, "--json", cwd=rig.path).stdout)["status"] == "in_progress"
    env = {k: v for k, v in os.environ.items() if k not in ("USER", "LOGNAME", "BD_ACTOR", "BEADS_ACTOR")}
    import subprocess

    out = subprocess.run([sys.executable, "-m", "gastown_tui.cli", "bd", "create", "No user", "--json"],
                         cwd=town.root, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    created_by = json.loads(out.stdout)["created_by"]
    import pwd

    assert created_by == pwd.getpwuid(os.getuid()).pw_name and created_by != "unknown"
