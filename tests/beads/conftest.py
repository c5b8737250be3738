"""Fixtures for the ledger tests: the real shared ledgers (through the root `shared` fixture)."""
from __future__ import annotations

import pytest


@pytest.fixture
def ledger_file(shared):
    """ledger_file(name) -> path of ../shared/ledgers/NAME (the test is skipped, saying why, if absent)."""

    def get(name: str):
        path = shared / "ledgers" / name
        if not path.exists():
            pytest.skip(f"shared ledger {path} not found")
        return path

    return get
