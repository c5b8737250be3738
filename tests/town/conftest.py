"""Fixtures for town tests: a real town in a tmp dir with a real rig cloned from a real repo."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from town_testkit import ensure_polecat_work, make_project


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


@pytest.fixture
def formula_ready(town):
    ensure_polecat_work(town.root)
    return town
