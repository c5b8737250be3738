"""A Ralph step's acceptance check: a shell command run in the polecat's worktree with a timeout.

`sh -c CMD` runs in its own process group; on timeout the whole group gets SIGTERM, then SIGKILL, so no
child the check started outlives it. Only the tail of its output is kept (it goes on the step bead).
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

TAIL_LINES = 20
TAIL_CHARS = 2000


@dataclass
class CheckResult:
    exit: int | None        # None: killed on timeout
    output: str             # the tail of stdout+stderr
    seconds: float
    timed_out: bool = False

    @property
    def passed(self) -> bool:
        return self.exit == 0 and not self.timed_out


def tail(text: str, lines: int = TAIL_LINES, chars: int = TAIL_CHARS) -> str:
    kept = "\n".join(text.rstrip().splitlines()[-lines:])
    return kept[-chars:]


def run_check(command: str, cwd: Path, timeout: float, env: dict | None = None) -> CheckResult:
    """Runs COMMAND with `sh -c` in CWD; on timeout the whole process group is killed."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen(["sh", "-c", command], cwd=str(cwd), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    except OSError as exc:
        return CheckResult(127, f"cannot run the check in {cwd}: {exc.strerror or exc}", 0.0)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return CheckResult(proc.returncode, tail(out.decode("utf-8", "replace")), time.monotonic() - started)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid, signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=2.0)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        text = tail(out.decode("utf-8", "replace"))
        note = f"[the check was killed after {timeout:g}s]"
        return CheckResult(None, (text + "\n" + note).strip(), time.monotonic() - started, timed_out=True)


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass
