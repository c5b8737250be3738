"""A screen client in its own process (so a test can SIGSTOP it): subscribes to AGENTS and keeps, in
OUT (JSON, rewritten atomically), the highest `n=` counter it sees on each agent's screen.

Usage: python screen_client.py SOCKET OUT AGENT...
"""
import asyncio
import json
import os
import re
import sys
import time

from gastown_tui.client.connection import Connection

COUNTER = re.compile(r"n=(\d{10})")


async def main(sock: str, out: str, agents: list[str]) -> None:
    rows: dict[str, dict[int, str]] = {}
    best: dict[str, int] = {}
    dirty = asyncio.Event()

    def on_event(ev: dict) -> None:
        if ev.get("event") != "screen":
            return
        agent = ev["agent"]
        screen = rows.setdefault(agent, {})
        if ev["full"]:
            screen.clear()
        for y, runs in ev["rows_changed"].items():
            screen[int(y)] = "".join(r[0] for r in runs)
        found = [int(m) for line in screen.values() for m in COUNTER.findall(line)]
        if found:
            best[agent] = max(found)
            dirty.set()

    conn = await Connection.open(sock, client="test", interactive=False, on_event=on_event)
    await conn.request("subscribe", agents=agents)
    while True:
        await dirty.wait()
        dirty.clear()
        tmp = out + ".tmp"
        with open(tmp, "w") as fh:
            json.dump({"at": time.time(), "best": best}, fh)
        os.replace(tmp, out)
        await asyncio.sleep(0.02)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
