"""`gastown service install|uninstall|status` writes (and removes) a user service that runs the town's
keeper at login and never kills the agents when the service restarts. systemd/launchd do not run here:
the files' contents are checked (--no-enable), and the unit's ExecStart is run for real."""
from __future__ import annotations

import plistlib
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from gastown_tui.cli import main as gastown
from gastown_tui.town.install import install_town


@pytest.fixture
def town(tmp_path, monkeypatch):
    home = tmp_path / "home with space"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return install_town(tmp_path / "my town")


def unit_lines(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out.setdefault(key, []).append(value)
    return out


def test_systemd_unit_keeps_agents_through_restarts_and_runs_the_keeper(town, tmp_path, capsys):
    assert gastown(["service", "install", "--town", str(town.root), "--platform", "systemd", "--no-enable"]) == 0
    units = list((tmp_path / "home with space" / ".config" / "systemd" / "user").glob("gastown-my-town-*.service"))
    assert len(units) == 1, capsys.readouterr()
    text = units[0].read_text()
    keys = unit_lines(text)
    assert keys["KillMode"] == ["process"]  # never control-group: a unit restart must not kill agents
    assert keys["Restart"] == ["on-failure"]
    assert keys["WantedBy"] == ["default.target"]
    assert keys["WorkingDirectory"] == [str(town.root)]
    assert any(v.startswith('"PATH=') or v.startswith("PATH=") for v in keys["Environment"])
    argv = shlex.split(keys["ExecStart"][0])
    assert argv[:3] == [sys.executable, "-S", str(Path(__file__).parents[2] / "gastown_tui" / "server" / "keeper.py")]
    assert argv[3:5] == ["--town", str(town.root)]
    assert argv[argv.index("--") + 1:] == [sys.executable, "-m", "gastown_tui.cli", "server", "--town", str(town.root)]
    assert keys["StandardOutput"] == [f"append:{town.root}/.runtime/server.log"]
    # The keeper command line the unit runs is a real, working one.
    help_run = subprocess.run(argv[:3] + ["--help"], capture_output=True, text=True, timeout=30)
    assert help_run.returncode == 0 and "--town" in help_run.stdout

    assert gastown(["service", "status", "--town", str(town.root), "--platform", "systemd", "--no-enable"]) == 0
    out = capsys.readouterr().out
    assert f"town: {town.root}" in out and "installed:" in out

    assert gastown(["service", "uninstall", "--town", str(town.root), "--platform", "systemd", "--no-enable"]) == 0
    assert not units[0].exists()
    assert gastown(["service", "status", "--town", str(town.root), "--platform", "systemd", "--no-enable"]) == 3
    assert "not installed" in capsys.readouterr().out


def test_launchd_agent_abandons_its_process_group_and_restarts_on_failure(town, tmp_path):
    assert gastown(["service", "install", "--town", str(town.root), "--platform", "launchd", "--no-enable"]) == 0
    plists = list((tmp_path / "home with space" / "Library" / "LaunchAgents").glob("org.gastown.town.my-town-*.plist"))
    assert len(plists) == 1
    data = plistlib.loads(plists[0].read_bytes())
    assert data["Label"] == plists[0].name[:-len(".plist")]
    assert data["AbandonProcessGroup"] is True  # launchd's KillMode=process
    assert data["KeepAlive"] == {"SuccessfulExit": False}
    assert data["RunAtLoad"] is True
    assert data["ProgramArguments"][1:3] == ["-S", str(Path(__file__).parents[2] / "gastown_tui" / "server" / "keeper.py")]
    assert data["WorkingDirectory"] == str(town.root)
    assert data["StandardErrorPath"] == f"{town.root}/.runtime/server.log"


def test_two_towns_get_two_services_and_odd_characters_are_escaped(tmp_path, monkeypatch):
    from gastown_tui.server import service as svc

    monkeypatch.setenv("HOME", str(tmp_path))
    a, b = tmp_path / "x" / "town", tmp_path / "y" / "town"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    assert svc.service_path(str(a), "systemd") != svc.service_path(str(b), "systemd")
    odd = tmp_path / "100% $HOME town"
    odd.mkdir()
    text = svc.systemd_unit(str(odd))
    keys = unit_lines(text)
    assert keys["WorkingDirectory"] == [str(odd).replace("%", "%%")]
    exec_argv = shlex.split(keys["ExecStart"][0].replace("%%", "%").replace("$$", "$"))
    assert exec_argv[4] == str(odd)
    assert svc.installed_town(str(tmp_path / "u.service")) is None
    (tmp_path / "u.service").write_text(text)
    assert svc.installed_town(str(tmp_path / "u.service")) == str(odd)


def test_service_outside_a_town_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert gastown(["service", "install", "--no-enable"]) == 1
    assert "town" in capsys.readouterr().err
