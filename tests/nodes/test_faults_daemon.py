"""The node daemon on its own Unix socket (no ssh): what makes a link drop harmless, shown directly.
`node serve`'s bridge starts it detached (its own session, a 0600 socket in a 0700 folder); a second
connection that says hello takes over from the first; a town resuming from byte N gets exactly the
bytes from N on; an input id already taken is acknowledged and not typed again; a spawn resent with the
same sid answers with the running program; a session the daemon does not have is named."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import stat
import sys
from pathlib import Path

from gastown_tui.nodes.channel import encode, pack, unpack
from gastown_tui.nodes.output_log import OutputLog
from gastown_tui.nodes.serve import connect_daemon, daemon_dir, socket_path
from waiting import until

ECHO = ("import sys, os\nos.write(1, b'ready>\\n')\nfor line in sys.stdin:\n"
        "    os.write(1, ('got ' + line.strip() + '\\n').encode())\n")


class Town:
    """One connection to the daemon, as the bridge gives it to the town."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.events: list[dict] = []
        self.eof = False

    async def open(self, as_is: bool = False) -> "Town":
        """As `node serve` does: the channel's fds handed to the daemon (here one end of a socketpair
        stands for the ssh pipes; the town talks on the other end). AS_IS: to the daemon running now,
        whatever its version (no start, no replacement)."""
        if as_is:
            self.ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.ctl.connect(str(socket_path(self.root)))
        else:
            self.ctl = await asyncio.get_running_loop().run_in_executor(None, connect_daemon, self.root)
        channel, mine = socket.socketpair()
        socket.send_fds(self.ctl, [b"fds"], [channel.fileno(), channel.fileno()])
        channel.close()
        self.reader, self.writer = await asyncio.open_unix_connection(sock=mine, limit=2 ** 22)
        self.task = asyncio.ensure_future(self._read())
        return self

    async def _read(self) -> None:
        while True:
            line = await self.reader.readline()
            if not line:
                self.eof = True
                return
            self.events.append(json.loads(line))

    def send(self, msg: dict) -> None:
        self.writer.write(encode(msg))

    async def wait(self, pred, what: str) -> dict:
        await until(lambda: any(pred(e) for e in self.events), timeout=20, what=what)
        return next(e for e in self.events if pred(e))

    def output(self, sid: str) -> bytes:
        return b"".join(unpack(e["data"]) for e in self.events if e.get("ev") == "output" and e.get("sid") == sid)

    def close(self) -> None:
        self.writer.close()
        self.task.cancel()
        self.ctl.close()


def _closed(ctl: socket.socket) -> bool:
    try:
        return ctl.recv(1) == b""
    except BlockingIOError:
        return False


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def spawn_msg(sid: str) -> dict:
    return {"op": "spawn", "sid": sid, "argv": [sys.executable, "-c", ECHO], "cwd": "work", "env": {},
            "cols": 80, "rows": 24}


async def test_the_daemon_resumes_dedupes_and_hands_over(node_dir):
    a = await Town(node_dir).open()
    ddir, sock = daemon_dir(node_dir), socket_path(node_dir)
    assert stat.S_IMODE(ddir.stat().st_mode) == 0o700 and stat.S_IMODE(sock.stat().st_mode) == 0o600
    daemon_pid = int((ddir / "daemon.pid").read_text())
    assert os.getsid(daemon_pid) == daemon_pid  # its own session: not the ssh session's
    a.send({"op": "hello"})
    hello = await a.wait(lambda e: e.get("ev") == "hello", "hello")
    assert hello["daemon"] and hello["pid"] == daemon_pid
    a.send(spawn_msg("s1"))
    spawned = await a.wait(lambda e: e.get("ev") == "spawned", "spawned")
    await until(lambda: b"ready>" in a.output("s1"), what="the prompt")
    a.send({"op": "input", "sid": "s1", "iid": 1, "data": pack(b"one\r")})
    a.send({"op": "input", "sid": "s1", "iid": 1, "data": pack(b"one\r")})  # resent: acknowledged, not typed
    a.send({"op": "input", "sid": "s1", "iid": 2, "data": pack(b"two\r")})
    await until(lambda: b"got two" in a.output("s1"), what="the second line")
    assert a.output("s1").count(b"got one") == 1
    assert [e["iid"] for e in a.events if e.get("ev") == "ack"] == [1, 1, 2]
    seen = len(a.output("s1"))

    # A second town connection (the first one's ssh went quiet in a cut) takes over.
    b = await Town(node_dir).open()
    b.send({"op": "hello"})
    await b.wait(lambda e: e.get("ev") == "hello", "hello on the new connection")
    await until(lambda: a.eof, what="the old connection closed by the takeover")
    a.ctl.setblocking(False)
    await until(lambda: _closed(a.ctl), what="the old bridge released (the daemon closed its side)")
    b.send({"op": "attach", "sessions": {"s1": {"seq": seen - 3}, "ghost": {"seq": 0}}})
    attached = await b.wait(lambda e: e.get("ev") == "attached", "attached")
    assert attached["unknown"] == ["ghost"] and attached["sessions"]["s1"]["last_iid"] >= 2
    first = next(e for e in b.events if e.get("ev") == "output")
    assert first["seq"] == seen - 3  # exactly from the byte asked for
    b.send(spawn_msg("s1"))  # a spawn resent across the cut: the same program
    again = await b.wait(lambda e: e.get("ev") == "spawned", "spawned again")
    assert again["pid"] == spawned["pid"] and again.get("again")
    b.send({"op": "input", "sid": "s1", "iid": 2, "data": pack(b"two\r")})  # taken already
    b.send({"op": "input", "sid": "s1", "iid": 3, "data": pack(b"three\r")})
    await until(lambda: b"got three" in b.output("s1"), what="the line typed on the new connection")
    full = a.output("s1")[:seen - 3] + b.output("s1")
    assert full.count(b"got two") == 1 and full.count(b"got one") == 1 and full.startswith(b"ready>")
    b.send({"op": "signal", "sid": "s1", "sig": int(signal.SIGTERM)})
    ended = await b.wait(lambda e: e.get("ev") == "exit", "the exit")
    assert ended["status"] == -15 and ended["end"] == len(full)
    b.close()
    a.close()


def test_the_output_log_gives_back_from_any_offset(tmp_path):
    log = OutputLog(tmp_path / "s.out", ring=10)
    for chunk in (b"abcdef", b"ghijkl", b"mnopqr"):
        log.append(chunk)
    assert log.end == 18 and log.ring_start == 8
    assert log.since(10) == (10, b"klmnopqr")  # from the ring
    assert log.since(2) == (2, b"cdefgh")  # older than the ring: from the file, up to the ring
    assert log.since(8) == (8, b"ijklmnopqr")
    assert log.since(18) == (18, b"")


async def test_a_new_town_link_hangs_up_the_programs_of_the_old_one_but_a_reconnect_does_not(node_dir):
    """A reconnect of the same link (the same token) finds its program running; a different link that
    proves no town (or another town: tests/nodes/test_adopt_daemon.py) ends it, as the old link's end did,
    and is not given its output."""
    a = await Town(node_dir).open()
    a.send({"op": "hello", "link": "town-1"})
    await a.wait(lambda e: e.get("ev") == "hello", "hello")
    a.send(spawn_msg("s1"))
    pid = (await a.wait(lambda e: e.get("ev") == "spawned", "spawned"))["pid"]
    again = await Town(node_dir).open()
    again.send({"op": "hello", "link": "town-1"})  # the same link reconnecting
    again.send({"op": "attach", "sessions": {"s1": {"seq": 0}}})
    attached = await again.wait(lambda e: e.get("ev") == "attached", "attached")
    assert attached["sessions"]["s1"]["alive"]
    other = await Town(node_dir).open()
    other.send({"op": "hello", "link": "town-2"})  # another town link
    other.send({"op": "attach", "sessions": {"s1": {"seq": 0}}})
    attached = await other.wait(lambda e: e.get("ev") == "attached", "attached")
    assert attached["unknown"] == ["s1"] and not other.output("s1")  # not its program: nothing of it
    await until(lambda: not _alive(pid), what="the old link's program hung up")
    for t in (a, again, other):
        t.close()


def test_a_node_folder_too_deep_for_a_socket_address_gets_a_short_socket_of_its_own(tmp_path):
    from gastown_tui.nodes.serve import short_socket

    near = tmp_path / "x" / "a-very-long-folder-name-for-a-node" / ("deep" * 20) / "daemon" / "node.sock"
    assert short_socket(tmp_path / "n.sock") == tmp_path / "n.sock"  # short enough: where it was asked for
    far = short_socket(near)
    assert len(str(far).encode()) < 100 and far != near and short_socket(near) == far  # the same every time
    assert stat.S_IMODE(far.parent.stat().st_mode) == 0o700 and far.parent.stat().st_uid == os.getuid()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(str(far))  # the address fits
    far.unlink()
