"""A client of another uid is refused (SO_PEERCRED), and the server keeps serving its own user.

Runs as root only: a child process switched to `nobody` is the other user. The socket normally lives in a
0700 folder, so `nobody` cannot even connect; to reach the server's own uid check, the test opens the
socket's permissions (as a misconfigured system might) and checks the server still refuses.
"""
from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from server.serverkit import ServerProcess, connect, make_town

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a client as another uid (nobody)")

PROBE = r"""
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as exc:
    print(json.dumps({"connect": type(exc).__name__})); sys.exit(0)
try:
    s.sendall(b'{"id":1,"cmd":"hello","protocol":1}\n{"id":2,"cmd":"status"}\n')
except OSError:
    pass  # the server may have refused and closed already
data = b""
while True:
    try:
        chunk = s.recv(65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
print(json.dumps({"lines": [json.loads(l) for l in data.splitlines() if l.strip()]}))
"""


def _system_python() -> str:
    for cand in ("/usr/bin/python3", "/usr/local/bin/python3", sys.executable):
        if os.path.exists(cand):
            return cand
    return sys.executable


def _as_nobody(socket_path: str) -> dict:
    nobody = pwd.getpwnam("nobody")
    proc = subprocess.run([_system_python(), "-S", "-c", PROBE, socket_path], capture_output=True, text=True,
                          user=nobody.pw_uid, group=nobody.pw_gid, extra_groups=[], timeout=60, cwd="/")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


async def test_another_uid_is_refused_even_when_the_socket_is_reachable(tmp_path):
    runtime = Path(tempfile.mkdtemp(prefix="gastown-xdg-"))
    os.chmod(runtime, 0o711)
    # A town path too long for a socket address: the socket goes to $XDG_RUNTIME_DIR/gastown/<hash>.sock.
    town = make_town(tmp_path / ("t" * 60) / ("u" * 60))
    old = os.environ.get("XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    try:
        srv = ServerProcess(town)
        try:
            srv.wait_ready()
            assert srv.socket.startswith(str(runtime / "gastown") + "/")
            assert len(srv.socket) < 108
            # As installed: nobody cannot reach the socket (its folder is 0700).
            assert _as_nobody(srv.socket) == {"connect": "PermissionError"}
            # Opened up: nobody connects, and the server itself refuses the uid, with one error line.
            os.chmod(os.path.dirname(srv.socket), 0o711)
            os.chmod(srv.socket, 0o666)
            got = _as_nobody(srv.socket)
            assert len(got["lines"]) == 1
            assert got["lines"][0]["code"] == "wrong-user"
            assert f"uid {pwd.getpwnam('nobody').pw_uid} may not use" in got["lines"][0]["error"]
            conn = await connect(srv)
            assert (await conn.request("status"))["server_pid"] == srv.pid
            await conn.close()
        finally:
            srv.stop()
    finally:
        if old is None:
            os.environ.pop("XDG_RUNTIME_DIR", None)
        else:
            os.environ["XDG_RUNTIME_DIR"] = old
