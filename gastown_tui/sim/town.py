"""The simulated agent talks to its town the way a real agent does: through `gt`.

It runs the `gt` launcher on its PATH (the shims the session puts first), or,
when there is none, this Python's `gastown` (`python -m gastown_tui.cli gt ...`).
Every call is a real process; output and errors are returned, never hidden.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field


class TownError(Exception):
    """A `gt` command failed or printed something unreadable; the message quotes it."""


@dataclass
class Step:
    id: str
    title: str = ""
    description: str = ""
    status: str = "open"
    ready: bool = False


@dataclass
class Prime:
    """What `gt prime --json` says (docs/contracts.md, town section)."""

    agent: str = ""
    role: str = ""
    rig: str | None = None
    hook: dict | None = None
    molecule_id: str | None = None
    formula: str | None = None
    steps: list[Step] = field(default_factory=list)
    next_step: str | None = None
    worktree: str | None = None
    ralph: dict | None = None   # the next step's Ralph loop: {"attempt", "max_attempts", "text", ...}

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)


def gt_argv() -> list[str]:
    gt = shutil.which("gt")
    return [gt] if gt else [sys.executable, "-m", "gastown_tui.cli", "gt"]


class Town:
    """Runs `gt` commands for one agent in its working directory."""

    def __init__(self, cwd: str, env: dict[str, str] | None = None, timeout: float = 120):
        self.cwd = cwd
        self.env = dict(os.environ if env is None else env)
        self.timeout = timeout

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        argv = gt_argv() + list(args)
        try:
            proc = subprocess.run(argv, cwd=self.cwd, env=self.env, capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise TownError(f"`gt {' '.join(args)}` did not finish in {self.timeout:.0f}s") from None
        except OSError as exc:
            raise TownError(f"cannot run gt ({argv[0]}): {exc}") from None
        if check and proc.returncode != 0:
            msg = (proc.stderr.strip() or proc.stdout.strip() or f"exit status {proc.returncode}").splitlines()
            raise TownError(f"`gt {' '.join(args)}` failed: {' / '.join(msg[-3:])}")
        return proc

    def prime(self) -> Prime:
        out = self.run("prime", "--json").stdout
        try:
            data = json.loads(out)
        except json.JSONDecodeError as exc:
            raise TownError(f"`gt prime --json` printed something that is not JSON ({exc}): {out[:200]!r}") from None
        if not isinstance(data, dict):
            raise TownError(f"`gt prime --json` printed {type(data).__name__}, expected an object")
        mol = data.get("molecule") or {}
        steps = [
            Step(id=str(s.get("id")), title=s.get("title") or "", description=s.get("description") or "",
                 status=s.get("status") or "open", ready=bool(s.get("ready")))
            for s in (mol.get("steps") or [])
        ]
        return Prime(
            agent=data.get("agent") or "", role=data.get("role") or "", rig=data.get("rig"),
            hook=data.get("hook"), molecule_id=mol.get("id"), formula=mol.get("formula"),
            steps=steps, next_step=data.get("next_step"), worktree=data.get("worktree"),
            ralph=data.get("ralph") if isinstance(data.get("ralph"), dict) else None,
        )

    def mol_done(self, step_id: str) -> dict:
        """Closes a step; returns `gt mol done --json`'s answer ({"next_step", "complete", ...}) or {}."""
        out = self.run("mol", "done", step_id, "--json").stdout
        try:
            data = json.loads(out)
        except json.JSONDecodeError:
            return {}
        return data if isinstance(data, dict) else {}

    def done(self) -> str:
        proc = self.run("done")
        return (proc.stdout.strip() or proc.stderr.strip())

    def close(self, bead_id: str, reason: str) -> str:
        """`bd close BEAD --reason REASON`: how a role that does not submit to the merge queue (the
        Mayor, crew) finishes the work on its hook."""
        bd = shutil.which("bd")
        argv = [bd] if bd else [sys.executable, "-m", "gastown_tui.cli", "bd"]
        argv += ["close", bead_id, "--reason", reason]
        try:
            proc = subprocess.run(argv, cwd=self.cwd, env=self.env, capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=self.timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TownError(f"`bd close {bead_id}` could not run: {exc}") from None
        if proc.returncode != 0:
            raise TownError(f"`bd close {bead_id}` failed: {(proc.stderr or proc.stdout).strip()[-300:]}")
        return proc.stdout.strip()

    def inbox(self) -> list[dict]:
        """This agent's mail (`gt mail inbox --json`): a list of message objects."""
        out = self.run("mail", "inbox", "--json").stdout
        try:
            data = json.loads(out or "[]")
        except json.JSONDecodeError as exc:
            raise TownError(f"`gt mail inbox --json` printed something that is not JSON ({exc})") from None
        if isinstance(data, dict):
            data = data.get("messages") or data.get("mail") or []
        return [m for m in data if isinstance(m, dict)]


def fix_needed_mail(messages: list[dict], bead_id: str) -> list[dict]:
    """The FIX_NEEDED messages about `bead_id` (subject starts FIX_NEEDED; the bead id in subject or body)."""
    found = []
    for msg in messages:
        subject = str(msg.get("subject") or msg.get("title") or "")
        body = str(msg.get("body") or msg.get("description") or msg.get("message") or "")
        if subject.strip().upper().startswith("FIX_NEEDED") and bead_id and (bead_id in subject or bead_id in body):
            found.append(msg)
    return found
