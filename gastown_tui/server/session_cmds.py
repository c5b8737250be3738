"""The town server's session and screen commands: subscribe, input, focus, resize, history, spawn, stop.

Plain functions over the `TownServer` (`server`) and the requesting `Client` (`c`); TownServer's
`cmd_*` methods delegate here. Size claims: only the interactive client focused on an agent resizes it.
"""
from __future__ import annotations

import base64
import os
from pathlib import Path

from gastown_tui.server.client_conn import Client
from gastown_tui.server.fail import Fail
from gastown_tui.server.screens import ALL, AgentScreen, ScreenSender
from gastown_tui.sessions.session import SessionError, SessionSpec

SCREEN_CLIENTS = ("app", "web", "attach")  # clients that show agents' screens (not gt/bd/node calls)


def session_of(server, agent):
    if not isinstance(agent, str):
        raise Fail("bad-request", "'agent' must be an agent address")
    try:
        session = server.runtime.sessions.get(agent)
    except SessionError as exc:
        raise Fail("bad-request", str(exc)) from None
    if session is None:
        raise Fail("no-session", f"{agent} has no session in this town")
    return session


async def subscribe(server, c: Client, msg: dict):
    agents = msg.get("agents")
    if not isinstance(agents, list) or not all(isinstance(a, str) for a in agents):
        raise Fail("bad-request", "subscribe: 'agents' must be a list of addresses")
    wanted: dict[str, object] = {}
    missing = []
    for a in agents:
        try:
            s = session_of(server, a)
        except Fail:
            missing.append(a)
            continue
        wanted[s.agent] = s
    for agent in list(c.subscribed):
        if agent not in wanted:
            unsubscribe(server, c, agent)
    if c.sender is None and wanted:
        c.sender = ScreenSender(c, server.screens)
    for agent, session in wanted.items():
        if agent in c.subscribed:
            continue
        screen = server.screens.get(agent)
        if screen is None:
            screen = server.screens[agent] = AgentScreen(
                agent, session, focused=lambda a=agent: any(x.focus == a for x in server.clients.values()))
        screen.subscribers.add(c.sender)
        c.subscribed.add(agent)
        c.sender.mark(agent, ALL)
    return {"agents": sorted(c.subscribed), "missing": missing}


def unsubscribe(server, c: Client, agent: str) -> None:
    c.subscribed.discard(agent)
    screen = server.screens.get(agent)
    if screen is not None and c.sender is not None:
        screen.subscribers.discard(c.sender)
        c.sender.forget(agent)
        if not screen.subscribers:
            screen.close()
            del server.screens[agent]


async def send_input(server, c: Client, msg: dict):
    session = session_of(server, msg.get("agent"))
    try:
        data = base64.b64decode(msg.get("data") or "", validate=True)
    except (ValueError, TypeError):
        raise Fail("bad-request", "input: 'data' must be base64") from None
    if not session.alive:
        raise Fail("exited", f"{session.agent} has exited")
    refused = getattr(session, "input_refused", None)  # a node's session whose link is down (nodes/)
    why = refused() if refused is not None else None
    if why:
        raise Fail("link-down", why)
    screen = server.screens.get(session.agent)
    if screen is not None:
        screen.typed()
    lock = session.input_lock  # a nudge being typed finishes first; keys never land inside it
    if lock.locked():
        async with lock:
            session.write(data)
    else:
        session.write(data)
    return {"bytes": len(data)}


async def focus(server, c: Client, msg: dict):
    agent = msg.get("agent")
    if agent is not None:
        agent = session_of(server, agent).agent
    c.focus = agent
    if agent is not None and c.interactive:
        server.size_claims[agent] = c.client_id
    return {"focus": agent, "size_claim": bool(agent and server.size_claims.get(agent) == c.client_id)}


async def resize(server, c: Client, msg: dict):
    session = session_of(server, msg.get("agent"))
    cols, rows = msg.get("cols"), msg.get("rows")
    if not (isinstance(cols, int) and isinstance(rows, int) and 1 <= cols <= 1000 and 1 <= rows <= 500):
        raise Fail("bad-request", "resize: 'cols' (1-1000) and 'rows' (1-500) must be integers")
    agent = session.agent
    if not c.interactive or c.focus != agent or server.size_claims.get(agent) != c.client_id:
        raise Fail("size-not-yours", f"{agent}'s size belongs to the interactive client focused on it "
                                     f"({server.size_claims.get(agent) or 'nobody yet'}); "
                                     "this client may only show it")
    if c.kind == "web" and any(o is not c and o.kind in SCREEN_CLIENTS for o in server.clients.values()):
        # a browser (often a phone) never reshapes an agent another screen is showing (herdr #2404)
        raise Fail("size-not-yours", f"a browser resizes {agent} only while it is the town's only screen")
    if (session.screen.cols, session.screen.rows) != (cols, rows):
        session.resize(cols, rows)
        screen = server.screens.get(agent)
        if screen is not None:
            screen.resized()
    return {"cols": session.screen.cols, "rows": session.screen.rows}


async def history(server, c: Client, msg: dict):
    session = session_of(server, msg.get("agent"))
    start, count = msg.get("start", 0), msg.get("count", 200)
    if not isinstance(start, int) or not isinstance(count, int) or count < 0:
        raise Fail("bad-request", "history: 'start' and 'count' must be integers (count >= 0)")
    cached = server._history.get(session.id)
    if cached is None or cached[0] != session.output_seq:
        lines = session.screen.history_text().split("\n")
        cached = server._history[session.id] = (session.output_seq, lines)
    lines = cached[1]
    total = len(lines)
    if start < 0:
        start = max(0, total + start)
    count = min(count, 5000)
    return {"agent": session.agent, "total": total, "start": start, "lines": lines[start:start + count]}


async def spawn(server, c: Client, msg: dict):
    """Starts a session for an agent: {agent, preset?, argv?, cwd?, env?, cols?, rows?, scrollback_lines?}."""
    agent, argv = msg.get("agent"), msg.get("argv")
    cwd = msg.get("cwd") or str(server.town.root)
    if not isinstance(agent, str):
        raise Fail("bad-request", "spawn: 'agent' must be an agent address")
    if argv is not None and (not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv)):
        raise Fail("bad-request", "spawn: 'argv' must be a non-empty list of strings")
    if not isinstance(cwd, str) or not os.path.isdir(cwd):
        raise Fail("bad-request", f"spawn: the folder {cwd!r} does not exist")
    env = msg.get("env") or {}
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise Fail("bad-request", "spawn: 'env' must map strings to strings")
    cols, rows = msg.get("cols", 120), msg.get("rows", 40)
    if not (isinstance(cols, int) and isinstance(rows, int) and 1 <= cols <= 1000 and 1 <= rows <= 500):
        raise Fail("bad-request", "spawn: 'cols' (1-1000) and 'rows' (1-500) must be integers")
    scrollback = msg.get("scrollback_lines", 10_000)
    if not isinstance(scrollback, int) or not 0 <= scrollback <= 1_000_000:
        raise Fail("bad-request", "spawn: 'scrollback_lines' must be an integer (0-1000000)")
    spec = SessionSpec(agent=agent, preset=str(msg.get("preset") or "shell"), cwd=Path(cwd), argv=argv,
                       env=env, cols=cols, rows=rows, scrollback_lines=scrollback)
    try:
        session = await server.runtime.sessions.spawn(spec)
    except SessionError as exc:
        raise Fail("failed", str(exc)) from None
    return {"agent": session.agent, "pid": session.pid, "session_id": session.id}


async def stop(server, c: Client, msg: dict):
    """Stops an agent's session: {agent}. Returns its exit status."""
    session = session_of(server, msg.get("agent"))
    status = await server.runtime.sessions.stop(session.agent)
    return {"agent": session.agent, "exit_status": status}
