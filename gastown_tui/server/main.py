"""Running a town's server in this process: lock, runtime, listener, factory loop, clean stop.

`serve_town` is what `gastown server` and `gastown run --headless` run (the keeper starts `gastown server
--town T`). It returns the process's exit status.
"""
from __future__ import annotations

import asyncio
import dataclasses
import sys
from pathlib import Path
from typing import Callable

from gastown_tui.demo.run import run_factory
from gastown_tui.nodes.heartbeat import heartbeat
from gastown_tui.nodes.placement import placing_sling
from gastown_tui.nodes.provider import provider_for
from gastown_tui.patrols.runtime import TownRuntime
from gastown_tui.patrols.settings import load_patrol_settings
from gastown_tui.server.lock import ServerLock
from gastown_tui.server.town_server import TownServer
from gastown_tui.town.layout import Town

ALL_PATROLS = ["deacon", "boot", "dogs", "gupp", "handoff", "witness", "refinery"]


async def serve(town_root: Path, *, convoy: str | None = None, timeout: float | None = None,
                patrols: bool = True, log: Callable[[str], None] = print) -> object:
    """Serves the town until `shutdown`, a signal, the convoy landing or the timeout; returns the factory's
    outcome. The caller holds the town's server lock."""
    settings = load_patrol_settings(Town(Path(town_root).resolve()).settings_path)
    if not patrols:
        settings = dataclasses.replace(settings, disabled=list(ALL_PATROLS))
    # the Mayor is the front door: a town serving its patrols starts it (--no-patrols: nothing runs by itself)
    runtime = TownRuntime(Path(town_root), settings=settings, start_mayor=patrols)
    runtime.sessions.provider = provider_for(runtime.town.root)  # polecats placed on nodes run there
    runtime.sling_fn = placing_sling  # the Deacon places each new polecat (the town machine or a node)
    server = TownServer(runtime, log=log)
    await runtime.sessions.start()  # adopts the agents a keeper holds before the first client can ask
    await server.start()
    beats = asyncio.get_running_loop().create_task(heartbeat(runtime.town.root), name="node-heartbeat")
    try:
        return await run_factory(runtime.town.root, convoy=convoy, timeout=timeout, log=log,
                                 stop_event=server.stop_event, runtime=runtime)
    finally:
        beats.cancel()
        await server.stop()


def serve_town(town_root: Path, *, convoy: str | None = None, timeout: float | None = None,
               patrols: bool = True, log: Callable[[str], None] | None = None) -> int:
    log = log or (lambda line: print(line, flush=True))
    lock = ServerLock(str(town_root))
    lock.acquire()  # AlreadyServed (a UserError) names the pid serving the town
    try:
        outcome = asyncio.run(serve(Path(town_root), convoy=convoy, timeout=timeout, patrols=patrols, log=log))
    finally:
        lock.release()
    print(f"stopped ({outcome.stopped_by}) after {outcome.seconds:.1f}s", flush=True)
    sys.stdout.flush()
    return 0 if (outcome.landed or not convoy) else 1
