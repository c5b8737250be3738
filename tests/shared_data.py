"""The real test data in ../shared (ledgers, formulas, captures).

Import as `from shared_data import shared_path` (tests/ is on pytest's
pythonpath); never `from conftest import ...`, which resolves to whichever
conftest.py pytest loaded last.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GASTOWN_SHARED", REPO.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """A path under ../shared; skips the test (saying why) when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared test data not found at {path} (set GASTOWN_SHARED or put shared/ beside the checkout)")
    return path
