"""The town server's node heartbeat: every HEARTBEAT seconds each registered node is checked (one ssh
login each, in threads, off the loop) and its health cached (nodes/health.py), so placement finds fresh
figures and the app shows each node up or down with its load. A node that goes down, comes back, or
becomes (not) ready is one `node_health` event in the town's log (which also makes clients read the
town again); a steady node writes no event.

Each beat logs in afresh (not over the shared connection of nodes/ssh.py), so a node whose sshd no
longer takes logins shows down even while an old connection to it lives. Costs: one ssh login per node
per interval (GASTOWN_NODE_HEARTBEAT seconds, default 60); nothing at all
for a town without nodes. Each beat also removes the clones of reaped remote polecats (nodes/cleanup.py)."""
from __future__ import annotations

import asyncio
import logging
import os
import threading
from pathlib import Path

from gastown_tui.errors import UserError
from gastown_tui.nodes.cleanup import sweep
from gastown_tui.nodes.health import load_health, measure_all
from gastown_tui.nodes.registry import load_nodes, nodes_path
from gastown_tui.town.layout import Town
from gastown_tui.nodes.check import rig_agent_programs
from gastown_tui.town.events import append_event

log = logging.getLogger(__name__)

HEARTBEAT = 60.0


def interval() -> float:
    try:
        return max(0.1, float(os.environ.get("GASTOWN_NODE_HEARTBEAT", HEARTBEAT)))
    except ValueError:
        return HEARTBEAT


def beat(town: Town) -> list[dict]:
    """One check of every node (blocking); the changes, as event payloads."""

    if not nodes_path(town).exists():
        return []
    try:
        nodes = list(load_nodes(town).values())
        agents = rig_agent_programs(town)
    except UserError:
        return []  # a bad nodes or settings file: the CLI names it; the heartbeat waits for a good one
    before = load_health(town)
    changes = []
    for name, h in measure_all(town, nodes, agents, fresh=True).items():  # can the node still take logins?
        old = before.get(name)
        if old is not None and (old.reachable, old.ready) == (h.reachable, h.ready):
            continue
        state = "ready" if h.ready else ("not_ready" if h.reachable else "down")
        payload = {"node": name, "state": state}
        if h.problems:
            payload["reason"] = h.problems[0]
        append_event(town.events_path, "node_health", "deacon", **payload)
        changes.append(payload)
    return changes


async def _in_daemon_thread(fn, *args):
    """FN(*ARGS) in a daemon thread: a beat stuck on an unreachable node (up to its ssh timeouts) never
    holds up the server's stop or the process's exit, as a thread of the loop's executor would."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def settle(setter, value) -> None:
        if not done.done():
            setter(value)

    def run() -> None:
        try:
            result = fn(*args)
        except BaseException as exc:  # handed to the awaiting task
            outcome = (done.set_exception, exc)
        else:
            outcome = (done.set_result, result)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:
            pass  # the loop has closed: nobody waits any more

    threading.Thread(target=run, name="node-heartbeat", daemon=True).start()
    return await done


async def heartbeat(town_root: Path, every: float | None = None) -> None:
    """Runs until cancelled."""
    town = Town(Path(town_root))
    every = every or interval()
    said: set = set()  # the clones kept for a commit the town lacks, already said (nodes/cleanup.py)
    while True:
        await _in_daemon_thread(beat, town)
        try:  # reaped remote polecats' clones removed from their nodes (never one holding unfetched work)
            await _in_daemon_thread(sweep, town, said)
        except (UserError, OSError) as exc:  # a bad placements or settings file: the CLI names it; try again
            log.warning("node clone cleanup: %s", exc)
        await asyncio.sleep(every)
