"""`gastown node add|list|show|check|remove` against real sshd "machines" on loopback."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gastown_tui import __version__


@pytest.fixture
def town(tmp_path):
    from gastown_tui.town.install import install_town

    return install_town(tmp_path / "town")


def gastown(town, *args, env=None):
    return subprocess.run([sys.executable, "-m", "gastown_tui.cli", *map(str, args)], cwd=town.root,
                          capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


def add(town, machine, name, *extra):
    res = gastown(town, "node", "add", name, f"ssh://{machine.user}@{machine.address}:{machine.port}",
                  "--dir", machine.home, "--python", sys.executable, *extra)
    assert res.returncode == 0, res.stderr
    return res


def test_add_list_show_remove_and_the_file(town):
    res = gastown(town, "node", "add", "mini1", "ssh://ann@mini1.tail:2222", "--dir", "/srv/gt", "--max-polecats", "6")
    assert res.returncode == 0, res.stderr
    assert gastown(town, "node", "add", "box", "box").returncode == 0  # a Host from ~/.ssh/config
    listed = json.loads(gastown(town, "node", "list", "--json").stdout)
    assert [n["name"] for n in listed] == ["box", "mini1"]
    shown = json.loads(gastown(town, "node", "show", "mini1", "--json").stdout)
    assert shown["url"] == "ssh://ann@mini1.tail:2222" and shown["max_polecats"] == 6 and shown["dir"] == "/srv/gt"
    assert "mini1" in gastown(town, "node", "list").stdout
    dup = gastown(town, "node", "add", "mini1", "ssh://x")
    assert dup.returncode == 1 and "already exists" in dup.stderr
    bad = gastown(town, "node", "add", "x", "http://x")
    assert bad.returncode == 1 and "only ssh://" in bad.stderr
    assert gastown(town, "node", "remove", "box").returncode == 0
    gone = gastown(town, "node", "show", "box")
    assert gone.returncode == 1 and "unknown node 'box'" in gone.stderr
    assert [n["name"] for n in json.loads((town.root / "settings" / "nodes.json").read_text())["nodes"]] == ["mini1"]


def test_a_bad_nodes_file_is_named_with_its_line_and_kept(town):
    path = town.root / "settings" / "nodes.json"
    path.write_text('{"nodes": [\n  {"name": "a",\n}\n')
    res = gastown(town, "node", "list")
    assert res.returncode == 1
    assert f"{path}:3: invalid JSON" in res.stderr
    assert gastown(town, "node", "add", "b", "ssh://b").returncode == 1
    assert path.read_text() == '{"nodes": [\n  {"name": "a",\n}\n'  # nothing lost or half-written


def test_check_a_ready_node(town, lab):
    m = lab.machine("n1")
    add(town, m, "n1")
    res = gastown(town, "node", "check", "n1", "--agent", "sh", "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)[0]
    assert report["reachable"] and report["problems"] == []
    assert report["gastown"] == __version__ and report["python"].startswith("3.")
    assert report["agents"]["sh"]
    plain = gastown(town, "node", "check", "n1", "--agent", "sh")
    assert plain.returncode == 0 and "node n1: ready" in plain.stdout


def test_a_node_without_the_agent_cli_is_one_line_naming_it(town, lab):
    m = lab.machine("n1")
    add(town, m, "n1")
    res = gastown(town, "node", "check", "n1", "--agent", "no-such-agent-cli")
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert lines == ["node n1: agent CLI 'no-such-agent-cli' is not installed (not on the login PATH)"]


def test_missing_python_and_gastown_are_named(town, lab):
    m = lab.machine("n1")
    res = gastown(town, "node", "add", "n1", f"ssh://{m.address}:{m.port}", "--python", "no-such-python3")
    assert res.returncode == 0
    res = gastown(town, "node", "check", "n1", "--agent", "sh")
    assert res.returncode == 1
    assert "node n1: python3 is missing" in res.stderr


def test_an_unknown_host_key_is_one_clear_error_and_never_prompts(town, lab):
    m = lab.machine("stranger", trusted=False)
    add(town, m, "stranger")
    res = gastown(town, "node", "check", "stranger", "--agent", "sh")
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [
        f"node stranger ({m.user}@{m.address}:{m.port}): unknown host key; check its fingerprint and add it to "
        f"known_hosts (e.g. ssh-keyscan -p {m.port} {m.address}), nothing was run there"]
    assert lab.known_hosts.read_text().count(str(m.port)) == 0  # not silently trusted


def test_a_refused_login_is_one_clear_error(town, lab):
    m = lab.machine("locked", key_allowed=False)
    add(town, m, "locked")
    res = gastown(town, "node", "check", "locked", "--agent", "sh")
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [
        f"node locked ({m.user}@{m.address}:{m.port}): login refused (no accepted key for {m.user}; "
        f"passwords are never asked)"]


def test_no_sshd_listening_is_named(town, lab):
    m = lab.machine("down")
    m.stop()
    add(town, m, "down")
    res = gastown(town, "node", "check", "down", "--agent", "sh")
    assert res.returncode == 1 and "node down (" in res.stderr and "connection refused" in res.stderr


def test_hosts_from_the_ssh_config_work(town, lab):
    m = lab.machine("aliased")
    lab.write_config(f"Host mini\n  HostName {m.address}\n  Port {m.port}\n  User {m.user}\n")
    # Host blocks are first-match: the alias block must come before `Host *`.
    text = lab.config.read_text()
    star, alias = text.split("Host mini\n")
    lab.config.write_text("Host mini\n" + alias + star)
    assert gastown(town, "node", "add", "mini", "mini", "--python", sys.executable).returncode == 0
    res = gastown(town, "node", "check", "mini", "--agent", "sh")
    assert res.returncode == 0, res.stderr
    assert "node mini: ready" in res.stdout
