"""Which agent runs a process: its session's process tree, remembered between calls only while the same
sessions live (real processes; the sessions are records of their pids)."""
from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass

from gastown_tui.server.identify import agent_of
from waiting import until


@dataclass
class Live:
    pid: int
    agent: str
    id: str
    exited: bool = False


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


async def test_a_grandchild_is_its_agents_and_the_memory_goes_with_the_session():
    agent = subprocess.Popen(["sh", "-c", "sleep 120 & wait"])  # the agent's program and a command it runs
    outsider = subprocess.Popen(["sleep", "120"])
    try:
        await until(lambda: _children(agent.pid), timeout=30, what="the agent's child")
        child = _children(agent.pid)[0]
        sessions = [Live(agent.pid, "rig/polecats/nux", "s1")]
        known: dict = {}
        assert agent_of(child, sessions, known) == "rig/polecats/nux"
        assert agent_of(child, sessions, known) == "rig/polecats/nux"  # answered from its memory
        assert agent_of(child, sessions) == "rig/polecats/nux"  # the same without one
        assert agent_of(outsider.pid, sessions, known) is None
        assert agent_of(outsider.pid, sessions, known) is None
        # The session ends (or another one starts): nothing remembered of the old set counts.
        assert agent_of(child, [Live(agent.pid, "rig/polecats/nux", "s1", exited=True)], known) is None
        assert agent_of(child, [Live(outsider.pid, "mayor", "s2")], known) is None
        assert agent_of(outsider.pid, [Live(outsider.pid, "mayor", "s2")], known) == "mayor"
        assert agent_of(child, sessions, known) == "rig/polecats/nux"
    finally:
        for pid in _children(agent.pid):
            os.kill(pid, signal.SIGKILL)
        for p in (agent, outsider):
            p.kill()
            p.wait()


def _environ(pid: int) -> bytes:
    with open(f"/proc/{pid}/environ", "rb") as fh:
        return fh.read()


async def test_a_process_that_left_the_tree_is_known_by_the_session_id_in_its_own_environment():
    agent = subprocess.Popen(["sleep", "120"])
    left = subprocess.Popen(["sleep", "120"], env={"PATH": os.environ["PATH"], "GT_SESSION_ID": "s1"})
    first = subprocess.Popen(["sleep", "120"], env={"GT_SESSION_ID": "s1", "A": "1"})
    stranger = subprocess.Popen(["sleep", "120"], env={"GT_SESSION_ID": "s9", "XGT_SESSION_ID": "s1"})
    try:
        # Popen returns (vfork) before the kernel has laid out the new program's environment.
        for p in (left, first, stranger):
            await until(lambda p=p: _environ(p.pid), timeout=30, what=f"pid {p.pid}'s environment")
        sessions = [Live(agent.pid, "rig/polecats/nux", "s1")]
        known: dict = {}
        assert agent_of(left.pid, sessions, known) == "rig/polecats/nux"  # GT_SESSION_ID last in its env
        assert agent_of(first.pid, sessions, known) == "rig/polecats/nux"  # ... first
        assert agent_of(stranger.pid, sessions, known) is None  # an ended or unknown session: nobody
    finally:
        for p in (agent, left, first, stranger):
            p.kill()
            p.wait()
