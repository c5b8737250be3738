"""Shared fixtures: the real test data in ../shared, and a clean git identity."""
from __future__ import annotations

from pathlib import Path

import pytest

from shared_data import SHARED, shared_path  # noqa: F401  (re-exported for fixtures)


@pytest.fixture
def shared() -> Path:
    return shared_path()


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch, tmp_path_factory):
    """Every test sees the same git identity and none of the user's git config."""
    home = tmp_path_factory.getbasetemp() / "home"
    home.mkdir(exist_ok=True)
    gitconfig = home / ".gitconfig"
    if not gitconfig.exists():
        gitconfig.write_text(
            "[user]\n\tname = Gastown Test\n\temail = test@gastown.invalid\n"
            "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
        )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GT_TOWN", raising=False)
    monkeypatch.delenv("GT_AGENT", raising=False)
