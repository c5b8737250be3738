"""Fixtures for the nodes tests: real sshd "machines" on loopback and a private ssh client folder."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from gastown_tui.nodes.serve import daemon_dir
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


@pytest.fixture
def node_dir(tmp_path):
    """A node's folder for a node daemon on its own socket (no ssh); the daemon a test started there is
    stopped after it."""
    root = (tmp_path / "node").resolve()
    root.mkdir()
    yield root
    stop_daemon(root)


def stop_daemon(root: Path) -> None:
    """The node daemon serving ROOT ends (SIGTERM, SIGKILL after 5 s); nothing when none runs."""
    try:
        pid = int((daemon_dir(root) / "daemon.pid").read_text())
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:  # started by this process: reaped here
                    return
            except ChildProcessError:
                pass
            os.kill(pid, 0)
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError):
        pass
