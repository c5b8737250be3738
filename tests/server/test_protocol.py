"""Bad protocol input gets a one-line error (or a closed connection) and never stops the server."""
from __future__ import annotations

import asyncio
import json
import os
import stat

import pytest

from gastown_tui.client.connection import Connection, RemoteError
from gastown_tui.server import wire
from server.serverkit import connect


async def _raw(path: str):
    return await asyncio.open_unix_connection(path, limit=8 * 1024 * 1024)


async def _line(reader) -> dict:
    return json.loads(await asyncio.wait_for(reader.readline(), 30))


async def test_junk_overlong_unknown_and_dropped_clients_leave_the_server_serving(server):
    good = await connect(server)
    r, w = await _raw(server.socket)
    w.write(b"this is not json\n")
    assert (await _line(r))["code"] == "bad-request"
    w.write(b"[1, 2, 3]\n")
    reply = await _line(r)
    assert reply["code"] == "bad-request" and "object" in reply["error"]
    w.write(b'{"id": 5, "cmd": "status"}\n')  # before hello
    assert (await _line(r)) == {"id": 5, "ok": False, "code": "hello-first", "error": "send hello before 'status'"}
    w.write(b'{"id": 6, "cmd": "hello", "protocol": 1}\n{"id": 7, "cmd": "make-coffee"}\n')
    assert (await _line(r))["ok"] is True
    reply = await _line(r)
    assert reply["id"] == 7 and reply["code"] == "unknown-command" and "make-coffee" in reply["error"]
    w.write(b'{"id": 8, "cmd": "exec", "argv": "bd ready", "cwd": "/"}\n')
    reply = await _line(r)
    assert reply["id"] == 8 and reply["code"] == "bad-request"
    # A line over 4 MiB: an error, the connection stays; a second one closes it.
    w.write(b"x" * (wire.MAX_LINE + 10) + b"\n")
    assert "longer than" in (await _line(r))["error"]
    w.write(b'{"id": 9, "cmd": "ping"}\n')
    assert (await _line(r))["id"] == 9
    w.write(b"y" * (wire.MAX_LINE + 10) + b"\n")
    assert "closing" in (await _line(r))["error"]
    assert await asyncio.wait_for(r.read(), 30) == b""
    w.close()
    # A client that disappears half-way through a line, and one that closes right after a request.
    for partial in (b'{"id": 1, "cmd": "hel', b'{"id":1,"cmd":"hello","protocol":1}\n{"id":2,"cmd":"status"}\n'):
        r2, w2 = await _raw(server.socket)
        w2.write(partial)
        await w2.drain()
        w2.transport.abort()
    status = await good.request("status")
    assert status["server_pid"] == server.pid
    assert server.proc.poll() is None
    await good.close()


async def test_a_different_protocol_version_names_both_versions(server):
    r, w = await _raw(server.socket)
    w.write(b'{"id": 1, "cmd": "hello", "protocol": 2, "version": "0.2.0"}\n')
    reply = await _line(r)
    assert reply["code"] == "version-mismatch"
    assert "protocol 2 (gastown 0.2.0)" in reply["error"] and "protocol 1 (gastown 0.1.0)" in reply["error"]
    assert await asyncio.wait_for(r.read(), 30) == b""  # closed
    w.close()


async def test_socket_is_private_and_requests_are_matched_by_id(server):
    folder = os.path.dirname(server.socket)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(server.socket).st_mode) == 0o600
    conn = await connect(server)
    assert conn.server["protocol"] == 1 and "exec" in conn.server["capabilities"]
    results = await asyncio.gather(*(conn.request("ping") for _ in range(20)), conn.request("status"))
    assert results[-1]["server_pid"] == server.pid
    try:
        await conn.request("history", agent="nobody/polecats/x")
    except RemoteError as exc:
        assert exc.code == "no-session"
    else:
        raise AssertionError("history of an agent without a session must fail")
    await conn.close()


async def test_a_second_server_names_the_pid_serving_the_town(server):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "gastown_tui.cli", "server", "--town", str(server.town),
                           "--no-patrols"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert f"already served by pid {server.pid}" in proc.stderr
    assert (await Connection.open(server.socket)).server["server_pid"] == server.pid


async def test_call_runs_the_towns_offered_functions(server):
    conn = await connect(server)
    await conn.request("watch", topics=["town"])
    reading = await conn.request("call", fn="town.read", args={})
    assert reading  # the town's read model, as the app gets it
    with pytest.raises(RemoteError) as err:
        await conn.request("call", fn="no.such.thing", args={})
    assert err.value.code == "failed" and "town.read" in str(err.value)
    ev = await asyncio.wait_for(conn.events.get(), 30)
    assert ev["event"] == "town"
    await conn.close()
