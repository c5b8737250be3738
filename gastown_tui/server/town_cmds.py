"""The town server's town commands: hello, ping, patrols, status, exec, call, watch, shutdown.

Plain functions over the `TownServer` (`server`) and the requesting `Client` (`c`); TownServer's
`cmd_*` methods delegate here.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time

from gastown_tui import __version__
from gastown_tui.server import api, wire
from gastown_tui.server.client_conn import Client
from gastown_tui.server.exec import NOT_IN_SERVER, Busy
from gastown_tui.server.fail import Fail
from gastown_tui.server.identify import agent_of
from gastown_tui.town.hooks import hooked_record

log = logging.getLogger(__name__)

CAPABILITIES = ["exec", "screens", "input", "size", "call", "history", "events"]
TOPICS = {"state", "town", "notice", "lifecycle"}


# -- hello, status ----------------------------------------------------------------------
async def hello(server, c: Client, msg: dict):
    proto = msg.get("protocol")
    if proto != wire.PROTOCOL:
        raise Fail("version-mismatch", f"client speaks protocol {proto} (gastown {msg.get('version', '?')}); "
                                       f"this server speaks protocol {wire.PROTOCOL} (gastown {__version__})")
    c.hello = True
    c.kind = str(msg.get("client") or "?")
    c.interactive = bool(msg.get("interactive"))
    return {"protocol": wire.PROTOCOL, "version": __version__, "capabilities": CAPABILITIES,
            "server_pid": os.getpid(), "town": str(server.town.root), "client_id": c.client_id}


async def ping(server, c: Client, msg: dict):
    return {"at": time.time()}


async def patrols(server, c: Client, msg: dict):
    """What each patrol role's pane shows: the patrol's state, next wake, backoff, last runs, escalations."""
    out = []
    for name in server.runtime.runner.names():
        role, _, rig = name.partition(":")
        out.append(server.runtime.activity.activity(role, rig or None).to_dict())
    return {"patrols": out}


async def status(server, c: Client, msg: dict):
    sessions = server.runtime.sessions.sessions()
    agents = [{"address": s.agent, "pid": s.pid, "alive": s.alive, "state": str(getattr(s.state, "value", s.state)),
               "cols": s.screen.cols, "rows": s.screen.rows, "session_id": s.id,
               "exit_status": s.exit_status} for s in sessions]
    town = server.town

    def hooks() -> dict:
        out = {}
        for a in agents:
            try:
                rec = hooked_record(town, a["address"])
            except Exception as exc:  # the status still answers; the log says why this hook is blank
                log.warning("status: the hook of %s cannot be read: %s", a["address"], exc)
                rec = None
            out[a["address"]] = rec.get("id") if rec else None
        return out

    found = await asyncio.get_running_loop().run_in_executor(server._calls, hooks)
    for a in agents:
        a["hook"] = found.get(a["address"])
    now = time.time()
    return {"server_pid": os.getpid(), "version": __version__, "protocol": wire.PROTOCOL,
            "town": str(town.root), "socket": server.socket_path, "started_at": server.started_at,
            "uptime": now - server.started_at, "clients": [x.info() for x in server.clients.values()],
            "agents": sorted(agents, key=lambda a: a["address"]), "exec_private_cwd": server.exec.private_cwd,
            "exec_running": {"seconds": round(busy[0], 3), "argv": busy[1]} if (busy := server.exec.busy()) else None,
            "exec_waiting": server.exec.waiting}


# -- exec ----------------------------------------------------------------------------------
async def exec_(server, c: Client, msg: dict):
    argv = msg.get("argv")
    cwd = msg.get("cwd")
    env = msg.get("env") or {}
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        raise Fail("bad-request", "exec: 'argv' must be a list of strings")
    if not isinstance(cwd, str) or not os.path.isabs(cwd):
        raise Fail("bad-request", "exec: 'cwd' must be an absolute path")
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise Fail("bad-request", "exec: 'env' must map strings to strings")
    if not os.path.isdir(cwd):
        raise Fail("bad-request", f"exec: the folder {cwd} does not exist")
    words = argv[1:] if argv[:1] == ["gt"] else argv
    name = words[0] if words and not words[0].startswith("-") else "app"
    if name in NOT_IN_SERVER:
        raise Fail("not-in-server", f"`gastown {name}` runs in its own process")
    if not server.exec.private_cwd:
        raise Fail("not-in-server", "this server cannot give a command its own working folder")
    busy = server.exec.busy()
    if busy is not None and busy[0] > server.exec_busy_limit:  # a long command: do not queue every agent behind it
        raise Fail("not-in-server", f"the server has been running `{' '.join(busy[1][:3])}` for {busy[0]:.0f}s; "
                                    "run this command in your own process")
    env = dict(env)
    agent = agent_of(c.pid, server.runtime.sessions.sessions(), server.identities) if c.pid else None
    if agent is not None:
        env["GT_AGENT"] = agent
        env["BD_ACTOR"] = agent
    rid = msg.get("id")

    if msg.get("raw") is True:  # the output's own bytes after a header line (the thin client)
        def deliver(stream: int, data: bytes) -> None:
            c.send_bytes(b'{"event":"raw","req":%s,"stream":%d,"bytes":%d}\n' % (wire.encode(rid)[:-1], stream,
                                                                                 len(data)) + data)
    else:
        def deliver(stream: int, data: bytes) -> None:
            c.send({"event": "out", "req": rid, "stream": stream, "data": data.decode("utf-8", "replace")})

    tty = msg.get("tty") if isinstance(msg.get("tty"), dict) else None
    tty = {int(k): bool(v) for k, v in (tty or {}).items() if str(k) in ("1", "2")}
    sizes = {}
    for k, v in (msg.get("sizes") or {}).items() if isinstance(msg.get("sizes"), dict) else ():
        if str(k) in ("0", "1", "2") and isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v):
            sizes[int(k)] = (v[0], v[1])
    try:
        code = await server.exec.run(argv, cwd, env, deliver, tty, sizes, give_up_after=server.exec_busy_limit)
    except Busy as busy:
        raise Fail("not-in-server", f"the server has been running `{' '.join(busy.argv[:3])}` for "
                                    f"{busy.seconds:.0f}s; run this command in your own process") from None
    # Watchers re-read the town; after this reply has gone (the caller waits for it, they do not).
    asyncio.get_running_loop().call_soon(server._broadcast, "town", {"event": "town", "why": "exec"})
    return {"exit": code, "agent": agent}


# -- call ----------------------------------------------------------------------------------
async def call(server, c: Client, msg: dict):
    fn = msg.get("fn")
    args = msg.get("args") or {}
    if not isinstance(fn, str) or not isinstance(args, dict):
        raise Fail("bad-request", "call: 'fn' must be a string and 'args' an object")
    loop = asyncio.get_running_loop()
    result = await loop.run_in_executor(server._calls, lambda: api.dispatch(server.town, fn, args))
    server._broadcast("town", {"event": "town", "why": fn})
    return result


# -- watching --------------------------------------------------------------------------------
async def watch(server, c: Client, msg: dict):
    topics = msg.get("topics", sorted(TOPICS))
    if not isinstance(topics, list) or not set(topics) <= TOPICS:
        raise Fail("bad-request", f"watch: 'topics' must be a list drawn from {sorted(TOPICS)}")
    c.topics = set(topics)
    return {"topics": sorted(c.topics),
            "agents": [{"agent": s.agent, "state": str(getattr(s.state, "value", s.state)), "pid": s.pid,
                        "alive": s.alive} for s in server.runtime.sessions.sessions()]}


# -- shutdown --------------------------------------------------------------------------------
async def shutdown(server, c: Client, msg: dict):
    server.log(f"{time.strftime('%H:%M:%S')} server             shutdown asked by {c.client_id} (pid {c.pid})")
    asyncio.get_running_loop().call_soon(server.stop_event.set)
    return {"stopping": True, "server_pid": os.getpid()}
