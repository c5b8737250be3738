"""A minimal town server for keeper tests (until the real listener is not needed): a SessionManager under
the keeper that started it (GASTOWN_KEEPER_FD), which adopts what the keeper holds and otherwise spawns the
agents named on its command line; it writes `status.json` (session pids, adopted or not, screen text) every
50 ms, and on `upgrade` (a file appearing) asks the keeper for a replacement and exits without stopping agents.

    python kept_server.py TOWN AGENT=ARGV_JSON ...
"""
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from gastown_tui.atomicfile import write_atomic
from gastown_tui.sessions.manager import SessionManager
from gastown_tui.sessions.spec import SessionSpec


async def main(town: Path, wanted: dict[str, list[str]]) -> int:
    mgr = SessionManager(town)
    await mgr.start()  # adopts what the keeper holds
    for agent, argv in wanted.items():
        if mgr.get(agent) is None:
            await mgr.spawn(SessionSpec(agent=agent, preset="shell", cwd=town, town=town, argv=argv, cols=60, rows=12))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    upgrade = town / "upgrade-now"
    while not stop.is_set():
        status = {"server_pid": os.getpid(), "keeper": mgr.keeper is not None,
                  "agents": {s.agent: {"pid": s.pid, "adopted": s.adopted, "alive": s.alive, "session_id": s.id,
                                       "exit_status": s.exit_status, "cols": s.screen.cols, "rows": s.screen.rows,
                                       "screen": s.screen.lines()} for s in mgr.sessions()}}
        write_atomic(town / "status.json", json.dumps(status).encode())
        if upgrade.exists():
            upgrade.unlink()
            mgr.keeper.restart()
            mgr.abandon()
            os._exit(0)
        try:
            await asyncio.wait_for(stop.wait(), 0.05)
        except asyncio.TimeoutError:
            pass
    await mgr.close(grace=0.5)
    return 0


if __name__ == "__main__":
    town = Path(sys.argv[1])
    wanted = {}
    for arg in sys.argv[2:]:
        agent, _, argv = arg.partition("=")
        wanted[agent] = json.loads(argv)
    sys.exit(asyncio.run(main(town, wanted)))
