"""Fixtures for the town server tests: a fresh town and a real `gastown server` process serving it."""
from __future__ import annotations

import pytest

from server.serverkit import ServerProcess, make_town


@pytest.fixture
def town(tmp_path):
    return make_town(tmp_path / "town")


@pytest.fixture
def server(town):
    srv = ServerProcess(town)
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()
