from __future__ import annotations

from pathlib import Path

import pytest

from kit.git import one_commit_repo


@pytest.fixture
def source_repo(tmp_path) -> Path:
    """A small project with one commit on main."""
    return one_commit_repo(tmp_path / "src", {"app.py": "def add(a, b):\n    return a + b\n"})
