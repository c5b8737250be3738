"""`gastown node install NAME` against a real sshd "machine": the node's own python (Debian's
/usr/bin/python3, not the town's) gets a venv with the town's gastown from the town's wheelhouse, offline
(pip runs with --no-index from the copied wheels only), and `node check` then says ready."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gastown_tui import __version__


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory):
    """Built once per test session from this checkout (the town's code), as `node install` builds it."""
    from gastown_tui.nodes.install import build_wheelhouse

    return build_wheelhouse(tmp_path_factory.mktemp("wheelhouse") / "wh")


@pytest.fixture
def town(tmp_path):
    from gastown_tui.town.install import install_town

    return install_town(tmp_path / "town")


def gastown(town, *args, env=None):
    return subprocess.run([sys.executable, "-m", "gastown_tui.cli", *map(str, args)], cwd=town.root,
                          capture_output=True, text=True, timeout=900, env={**os.environ, **(env or {})})


NODE_PYTHON = "/usr/bin/python3"


def test_install_puts_the_towns_gastown_on_a_node_offline_and_the_node_is_then_ready(town, lab, wheelhouse):
    if not Path(NODE_PYTHON).exists():
        pytest.skip(f"{NODE_PYTHON} (the node's own python) is missing")
    found = subprocess.run([NODE_PYTHON, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                           capture_output=True, text=True).stdout.strip()
    if found != f"{sys.version_info[0]}.{sys.version_info[1]}":
        pytest.skip(f"{NODE_PYTHON} is {found}, the town's wheels are for {sys.version_info[:2]}")
    m = lab.machine("fresh")
    env = {"GASTOWN_WHEELHOUSE": str(wheelhouse)}
    assert gastown(town, "node", "add", "fresh", f"ssh://{m.user}@{m.address}:{m.port}", "--dir", m.home,
                   "--python", NODE_PYTHON).returncode == 0
    before = gastown(town, "node", "check", "fresh")
    assert before.returncode == 1 and "node fresh: the gastown package is not installed" in before.stderr
    assert "gastown node install fresh" in before.stderr

    res = gastown(town, "node", "install", "fresh", env=env)
    assert res.returncode == 0, res.stderr
    assert f"Installed gastown {__version__} on node fresh" in res.stdout and "ready" in res.stdout
    venv_python = m.home.resolve() / "venv" / "bin" / "python"
    shown = json.loads(gastown(town, "node", "show", "fresh", "--json").stdout)
    assert shown["python"] == str(venv_python)
    check = json.loads(gastown(town, "node", "check", "fresh", "--json").stdout)[0]
    assert check["problems"] == [] and check["gastown"] == __version__
    # the node's venv runs the town's code: the same module file set, not the town's checkout
    where = subprocess.run([str(venv_python), "-c", "import gastown_tui; print(gastown_tui.__file__)"],
                           capture_output=True, text=True, cwd="/")
    assert str(m.home.resolve() / "venv") in where.stdout, where

    again = gastown(town, "node", "install", "fresh", env=env)  # the wheels are there: only pip runs
    assert again.returncode == 0 and "already has every wheel" in again.stderr, again.stderr


def test_install_errors_name_the_node(town, lab, wheelhouse):
    m = lab.machine("nopy")
    env = {"GASTOWN_WHEELHOUSE": str(wheelhouse)}
    assert gastown(town, "node", "add", "nopy", f"ssh://{m.user}@{m.address}:{m.port}", "--dir", m.home,
                   "--python", "/nonexistent/python3").returncode == 0
    res = gastown(town, "node", "install", "nopy", env=env)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "node nopy: its python '/nonexistent/python3' does not run" in lines[0]
    assert not (m.home / "venv").exists()
    stranger = lab.machine("stranger", trusted=False)
    assert gastown(town, "node", "add", "stranger", f"ssh://{stranger.user}@{stranger.address}:{stranger.port}",
                   "--dir", stranger.home).returncode == 0
    res = gastown(town, "node", "install", "stranger", env=env)
    assert res.returncode == 1 and "node stranger" in res.stderr and "unknown host key" in res.stderr
