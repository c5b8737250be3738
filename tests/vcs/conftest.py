from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def source_repo(tmp_path) -> Path:
    """A small project with one commit on main."""
    src = tmp_path / "src"
    src.mkdir()
    _git(src, "init", "-q", "-b", "main")
    (src / "app.py").write_text("def add(a, b):\n    return a + b\n")
    _git(src, "add", ".")
    _git(src, "commit", "-q", "-m", "initial")
    return src
