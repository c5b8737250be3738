"""Ending a process a test started: asked first (SIGTERM, so a town server stops its agents in order),
then killed if it does not end in time."""
from __future__ import annotations

import subprocess


def end_process(proc: subprocess.Popen, grace: float = 60.0) -> None:
    """Terminates PROC and waits up to GRACE seconds; kills it if it is still there."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
