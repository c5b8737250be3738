"""`gt`/`bd` through the thin client: the server runs the command; the bytes are the same as in-process."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from gastown_tui.town.shims import THIN_CLIENT, write_shims
from server.serverkit import connect
from waiting import until

PY = sys.executable


def _run(argv, cwd, env):
    p = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("GT_TOWN", "GT_AGENT", "BEADS_DIR", "GASTOWN_SOCKET")}
    env.update(BD_ACTOR="tester", **extra)
    return env


def _imported(argv, cwd, env) -> set[str]:
    p = subprocess.run([os.path.realpath(PY), "-S", "-X", "importtime", *argv], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "usage: gastown bd" in p.stdout  # answered by the server
    modules = {line.split("|")[-1].strip() for line in p.stderr.splitlines() if line.startswith("import time:")}
    modules.discard("package")
    return modules


def test_thin_client_imports_no_more_than_python_s_itself_does_plus_the_socket(server, tmp_path):
    bare = subprocess.run([os.path.realpath(PY), "-S", "-X", "importtime", "-c", "pass"], capture_output=True,
                          text=True, timeout=60).stderr
    startup = {line.split("|")[-1].strip() for line in bare.splitlines() if line.startswith("import time:")}
    env = _env(GASTOWN_SOCKET=server.socket, GASTOWN_THIN_REQUIRE_SERVER="1")
    # A shim (the socket known): nothing of gastown, no os, no json, no site.
    from importlib.util import cache_from_source

    from gastown_tui.town.shims import EXEC_CLIENT
    compiled = Path(cache_from_source(str(EXEC_CLIENT)))  # the shims import it from here: no call compiles it
    compiled.unlink(missing_ok=True)
    shim = write_shims(tmp_path / "shims")[1]
    assert Path(shim).read_text().startswith("#!" + os.path.realpath(PY) + " -S\n")
    assert compiled.exists() and compiled.stat().st_mtime >= EXEC_CLIENT.stat().st_mtime
    extra = _imported([str(shim), "--help"], tmp_path, env) - startup
    assert extra == {"exec_client", "_socket"}, extra
    # The client run by path, outside a town with no socket named: it finds the socket with server/paths.py.
    env.pop("GASTOWN_SOCKET")
    env["GT_TOWN"] = str(server.town)
    extra = _imported([str(THIN_CLIENT), "bd", "--help"], tmp_path, env) - startup
    assert "paths" in extra and "exec_client" in extra
    ours = {m for m in extra if m.startswith("gastown") or m in ("site", "orjson", "psutil", "pexpect", "json")}
    assert ours == set(), ours


def test_same_bytes_and_exit_codes_through_the_server_and_without_it(server, tmp_path):
    subprocess.run([PY, "-m", "gastown_tui.cli", "bd", "init", "--prefix", "tc"], cwd=tmp_path, check=True,
                   capture_output=True, env=_env())
    inproc = lambda *a: _run([PY, "-m", "gastown_tui.cli", *a], tmp_path, _env())  # noqa: E731
    thin = lambda *a: _run([PY, "-S", str(THIN_CLIENT), *a], tmp_path,  # noqa: E731
                           _env(GASTOWN_SOCKET=server.socket, GASTOWN_THIN_REQUIRE_SERVER="1"))
    fallback = lambda *a: _run([PY, "-S", str(THIN_CLIENT), *a], tmp_path,  # noqa: E731
                               _env(GASTOWN_SOCKET=str(tmp_path / "none.sock")))
    created = json.loads(thin("bd", "create", "first bead", "--json")[1])
    assert created["created_by"] == "tester"
    awkward = 'a "quoted" back\\slash, a\nnew line, a\ttab, \x01, é and 🎉'  # escaped by hand in the request
    odd = json.loads(thin("bd", "create", awkward, "--json")[1])
    assert odd["title"] == awkward
    inproc("bd", "create", "second bead", "-p", "1")
    thin("bd", "create", "third bead, the server's after another process wrote", "--json")
    cases = [("bd", "list", "--json"), ("bd", "ready"), ("bd", "show", created["id"]), ("bd", "show", odd["id"]),
             ("bd", "show", "tc-nope"),  # an error: exit 1, one line on stderr
             ("bd", "frobnicate"),  # argparse: exit 2, usage on stderr
             ("bd", "--db", ".beads", "stats"),  # a path relative to the caller's folder
             ("gt", "formula", "list")]
    for case in cases:
        want = inproc(*case)
        assert thin(*case) == want, case
        assert fallback(*case) == want, case
    assert inproc("bd", "show", "tc-nope")[0] == 1 and inproc("bd", "frobnicate")[0] == 2


async def test_the_caller_is_the_agent_whose_process_tree_runs_it_not_what_its_env_says(server, tmp_path):
    shims = tmp_path / "shims"
    write_shims(shims)
    subprocess.run([PY, "-m", "gastown_tui.cli", "bd", "init", "--prefix", "id"], cwd=tmp_path, check=True,
                   capture_output=True, env=_env())
    out = tmp_path / "created.json"
    script = (f"GASTOWN_SOCKET={server.socket} GASTOWN_THIN_REQUIRE_SERVER=1 GT_AGENT=liar BD_ACTOR=liar "
              f"{shims / 'bd'} create probe --json > {out}.tmp 2>&1; mv {out}.tmp {out}; exec cat")
    conn = await connect(server)
    started = await conn.request("spawn", agent="mayor", argv=["sh", "-c", script], cwd=str(tmp_path))
    assert await until(lambda: out.exists(), timeout=60)
    created = json.loads(out.read_text())
    assert created["created_by"] == started["agent"] != "liar"
    await conn.close()


async def test_commands_from_many_clients_at_once_each_get_their_own_output(server, tmp_path):
    subprocess.run([PY, "-m", "gastown_tui.cli", "bd", "init", "--prefix", "mc"], cwd=tmp_path, check=True,
                   capture_output=True, env=_env())
    env = _env(GASTOWN_SOCKET=server.socket, GASTOWN_THIN_REQUIRE_SERVER="1")
    procs = [await asyncio.create_subprocess_exec(PY, "-S", str(THIN_CLIENT), "bd", "create", f"bead {i}", "--json",
                                                  cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                                  stderr=subprocess.PIPE) for i in range(8)]
    results = [await p.communicate() for p in procs]
    titles = sorted(json.loads(o)["title"] for o, _ in results)
    assert titles == sorted(f"bead {i}" for i in range(8))
    listed = json.loads(subprocess.run([PY, "-m", "gastown_tui.cli", "bd", "list", "--json"], cwd=tmp_path,
                                       capture_output=True, env=_env()).stdout)
    assert len(listed) == 8
    assert Path(server.socket).exists()


def test_a_towns_own_shims_use_its_server_and_run_in_process_without_one(server):
    shims = write_shims(server.town / ".runtime" / "shims")
    gt = str(shims[0])
    text = Path(gt).read_text()
    assert server.socket in text and str(THIN_CLIENT.parent) in text
    env = _env()
    env.pop("GASTOWN_SOCKET", None)
    up = _run([gt, "formula", "list"], server.town, dict(env, GASTOWN_THIN_REQUIRE_SERVER="1"))
    assert up[0] == 0 and up[1]
    server.stop()
    down = _run([gt, "formula", "list"], server.town, dict(env, GASTOWN_THIN_REQUIRE_SERVER="1"))
    assert down == up  # no server: the shim ran the command itself (the thin client would have refused)


def test_a_command_stuck_in_the_server_does_not_queue_every_caller_behind_it(tmp_path):
    import fcntl

    from server.serverkit import ServerProcess, make_town

    srv = ServerProcess(make_town(tmp_path / "town"), env=dict(os.environ, GASTOWN_EXEC_BUSY_LIMIT="1"))
    try:
        srv.wait_ready()
        a, b = tmp_path / "a", tmp_path / "b"
        for d, prefix in ((a, "aa"), (b, "bb")):
            d.mkdir()
            subprocess.run([PY, "-m", "gastown_tui.cli", "bd", "init", "--prefix", prefix], cwd=d, check=True,
                           capture_output=True, env=_env())
        env = _env(GASTOWN_SOCKET=srv.socket)
        fd = os.open(a / ".beads" / ".gastown.lock", os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)  # ledger a is busy: a create there waits in the server's exec thread
        stuck = subprocess.Popen([PY, "-S", str(THIN_CLIENT), "bd", "create", "waits", "--json"], cwd=a, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        import asyncio as _asyncio

        from gastown_tui.client.connection import Connection

        async def running() -> dict | None:
            conn = await Connection.open(srv.socket)
            try:
                return (await conn.request("status"))["exec_running"]
            finally:
                await conn.close()

        import time

        deadline = time.monotonic() + 60
        while not ((r := _asyncio.run(running())) and "waits" in r["argv"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert r and "waits" in r["argv"], r
        # Queued behind it: once it has held the thread more than 1 s, this one runs by itself.
        done = _run([PY, "-S", str(THIN_CLIENT), "bd", "create", "free", "--json"], b, env)
        assert done[0] == 0 and json.loads(done[1])["title"] == "free", done
        again = _run([PY, "-S", str(THIN_CLIENT), "bd", "list", "--json"], b, env)
        assert again[0] == 0 and len(json.loads(again[1])) == 1
        assert stuck.poll() is None  # still waiting for ledger a
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        out, err = stuck.communicate(timeout=60)
        assert stuck.returncode == 0 and json.loads(out)["title"] == "waits"
    finally:
        srv.stop()


def _exchange(sock_path: str, line: bytes) -> bytes:
    """Sends LINE on a fresh connection; everything the server sends until it closes or 10 s pass."""
    import socket
    import time

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall(line)
    s.settimeout(10)
    got = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and b'"id":1,"ok"' not in got:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        got += chunk
    s.close()
    return got


def test_one_exec_line_carries_the_hello_and_gets_the_commands_own_bytes(server, tmp_path):
    subprocess.run([PY, "-m", "gastown_tui.cli", "bd", "init", "--prefix", "rw"], cwd=tmp_path, check=True,
                   capture_output=True, env=_env())
    env = _env()
    want = subprocess.run([PY, "-m", "gastown_tui.cli", "bd", "list", "--json"], cwd=tmp_path, env=env,
                          capture_output=True).stdout
    req = {"id": 1, "cmd": "exec", "hello": {"protocol": 1, "client": "bd", "pid": os.getpid()}, "raw": True,
           "argv": ["bd", "list", "--json"], "cwd": str(tmp_path), "env": env}
    got = _exchange(server.socket, (json.dumps(req) + "\n").encode())
    header, rest = got.split(b"\n", 1)
    assert json.loads(header) == {"event": "raw", "req": 1, "stream": 1, "bytes": len(want)}  # no hello reply
    assert rest[:len(want)] == want
    reply = json.loads(rest[len(want):])
    assert reply["id"] == 1 and reply["ok"] and reply["data"]["exit"] == 0


def test_an_exec_whose_hello_speaks_another_protocol_is_told_both_versions(server, tmp_path):
    req = {"id": 1, "cmd": "exec", "hello": {"protocol": 99, "client": "bd", "version": "9.9"}, "raw": True,
           "argv": ["bd", "list"], "cwd": str(tmp_path), "env": {}}
    got = json.loads(_exchange(server.socket, (json.dumps(req) + "\n").encode()).splitlines()[0])
    assert got["id"] == 1 and got["code"] == "version-mismatch" and "protocol 99" in got["error"]


def test_a_shim_whose_python_cannot_go_on_a_shebang_line_is_a_shell_script(tmp_path):
    from gastown_tui.town.shims import shim_text

    long_python = "/opt/" + "x" * 300 + "/bin/python"
    text = shim_text("bd", "bd", long_python, None)
    assert text.startswith("#!/bin/sh\n") and f"exec {long_python} -S {THIN_CLIENT} bd" in text
    spaced = shim_text("gt", "gt", "/opt/my python/bin/python", None)
    assert spaced.startswith("#!/bin/sh\n") and "'/opt/my python/bin/python' -S" in spaced
