"""Fixtures for the app tests: the fixed test town (built by town_builder.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import build_town


@pytest.fixture(scope="session")
def shared_town(tmp_path_factory) -> Path:
    """A town for tests that only read it (snapshots, switching agents)."""
    return build_town(tmp_path_factory.mktemp("shared-town"))


@pytest.fixture
def fresh_town(tmp_path) -> Path:
    """A town of its own, for tests that change it."""
    return build_town(tmp_path / "t")
