"""Fixtures for town tests: a real town in a tmp dir with a real rig cloned from a real repo."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def sh(cwd: Path, *args: str) -> str:
    return subprocess.run(list(args), cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def make_project(path: Path) -> Path:
    """A small Python project with its own passing test suite, committed on main."""
    path.mkdir(parents=True)
    sh(path, "git", "init", "-q", "-b", "main")
    (path / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (path / "test_calc.py").write_text("from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n")
    sh(path, "git", "add", ".")
    sh(path, "git", "commit", "-q", "-m", "calc with tests")
    return path


@pytest.fixture
def project(tmp_path) -> Path:
    return make_project(tmp_path / "project")


@pytest.fixture
def town(tmp_path):
    from gastown_tui.town.install import install_town

    return install_town(tmp_path / "town")


@pytest.fixture
def rig(town, project):
    from gastown_tui.town.rigs import add_rig

    return add_rig(town, "calc", str(project), gate=f"{sys.executable} -m pytest -q")


def gastown(*args: str, cwd: Path, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Runs the real `gastown` command line in a subprocess."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "gastown_tui.cli", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"gastown {' '.join(args)} exited {proc.returncode}\nstdout:{proc.stdout}\nstderr:{proc.stderr}")
    return proc
