"""Fixtures for the nodes tests: real sshd "machines" on loopback and a private ssh client folder."""
from __future__ import annotations

import pytest

from nodes.sshd import Lab, sshd_missing


@pytest.fixture
def lab(tmp_path, monkeypatch):
    why = sshd_missing()
    if why:
        pytest.skip(why)
    lab = Lab(tmp_path / "lab")
    monkeypatch.setenv("GASTOWN_SSH_CONFIG", str(lab.config))
    print(f"nodes lab: {lab.topology}")
    try:
        yield lab
    finally:
        from gastown_tui.nodes.ssh import close_masters

        close_masters()  # the town's shared ssh connections to this lab's machines
        lab.close()
