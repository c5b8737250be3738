"""A restarted town server re-adopts the programs its nodes run (docs/nodes.md, "A restarted town
re-adopts its nodes' programs"), through real `gastown server` processes and a real sshd "machine":
an agent placed on node n1 is spawned through the server; the server is killed with SIGKILL while the
program writes numbered lines, in the middle of typing a nudge; a nudge is queued while no server runs; a
new server starts. The same
pid runs on the node, the town's transcript holds every numbered line exactly once (those written while
no server ran included: no gap, no repeat), the screen shows the end of what was written meanwhile, the
nudge delivered before the kill, the one being typed at the kill and the one queued while down are each
acted on exactly once, and keys
typed to the adopted program echo."""
from __future__ import annotations

import asyncio
import base64
import json
import re
import sys
import textwrap
import time
from dataclasses import asdict
from pathlib import Path

from gastown_tui.nodes.git import RemoteWorktree
from gastown_tui.nodes.registry import add_node
from gastown_tui.nodes.remote_adoption import records_dir
from gastown_tui.town.layout import Town
from gastown_tui.town.nudges import enqueue
from waiting import until

AGENT = "mayor"
TICKS = 150
WRITER = textwrap.dedent(f"""
    import os, sys, threading, time
    def keys():
        for line in sys.stdin:
            os.write(1, ("got " + line.strip() + "\\n").encode())
    threading.Thread(target=keys, daemon=True).start()
    os.write(1, b"adopt-writer ready>\\n")
    for i in range(1, {TICKS} + 1):
        os.write(1, b"tick %06d\\n" % i)
        time.sleep(0.03)
    os.write(1, b"ticks done\\n")
    while True:
        time.sleep(1)
""")
TICK = re.compile(rb"tick (\d{6})")


def place(town: Path, m, agent: str = AGENT) -> None:
    add_node(Town(town), "n1", f"ssh://{m.user}@{m.address}:{m.port}", dir=str(m.home), python=sys.executable)
    home = m.home.resolve()
    wt = RemoteWorktree("n1", "gastown", agent, f"polecat/{agent}/x", str(home), "", str(home / agent))
    placements = town / ".runtime" / "nodes" / "placements.json"
    placements.parent.mkdir(parents=True, exist_ok=True)
    placements.write_text(json.dumps({"placements": {agent: {"node": "n1", "worktree": asdict(wt)}}}))


def record(town: Path) -> dict:
    files = list(records_dir(town).glob("*.json"))
    assert len(files) == 1, files
    return json.loads(files[0].read_text())


def transcript(rec: dict) -> bytes:
    folder = Path(rec["transcript_dir"])
    return b"".join((folder / n).read_bytes() for n in ("transcript.raw.1", "transcript.raw") if (folder / n).exists())


def acted(raw: bytes, nudge: str) -> int:
    """How many times the program read the nudge as a line ("got [URGENT from overseer] nudge-…")."""
    return len(re.findall(rb"got [^\r\n]*" + nudge.encode() + rb"\r?\n", raw))


def delivered(queue: Path, text: str) -> bool:
    return any(text in p.read_text() for p in queue.glob("*/delivered.jsonl"))


def alive_writer(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z" and b"adopt-writer" in cmd


def node_output(m, sid: str) -> bytes:
    try:
        return (m.home / "sessions" / f"{sid}.out").read_bytes()
    except OSError:
        return b""


async def test_a_killed_town_server_is_restarted_and_re_adopts_the_program_on_its_node(tmp_path, lab):
    from server.serverkit import ScreenMirror, ServerProcess, connect, make_town

    town = make_town(tmp_path / "town")
    m = lab.machine("n1")
    place(town, m)
    queue = town / ".runtime" / "nudge_queue"
    srv = ServerProcess(town)
    srv2 = None
    try:
        srv.wait_ready()
        conn = await connect(srv, interactive=True)
        await conn.request("spawn", agent=AGENT, argv=[sys.executable, "-c", WRITER], cwd=str(town), cols=80, rows=24)
        rec = record(town)
        pid, sid = rec["remote_pid"], rec["sid"]
        assert rec["node"] == "n1" and alive_writer(pid)
        assert (records_dir(town) / f"{sid}.json").stat().st_mode & 0o777 == 0o600  # it holds the agent's env
        await until(lambda: len(TICK.findall(transcript(rec))) >= 15, timeout=30, what="the first numbered lines")
        enqueue(queue, AGENT, "nudge-before", urgent=True)
        await until(lambda: acted(transcript(rec), "nudge-before") == 1 and delivered(queue, "nudge-before"),
                    timeout=30, what="the first nudge acted on and marked delivered")
        await conn.close()

        enqueue(queue, AGENT, "nudge-in-flight", urgent=True)  # killed while it is being typed:
        await until(lambda: (record(town).get("nudge") or {}).get("inputs"), timeout=30, interval=0.002,
                    what="the server typing the second nudge")
        srv.proc.kill()  # SIGKILL: no hangup, no clean close
        srv.proc.wait(10)
        at_kill = len(TICK.findall(transcript(rec)))
        assert at_kill < TICKS, "the program finished before the kill; the test proves nothing"
        enqueue(queue, AGENT, "nudge-while-down", urgent=True)
        await until(lambda: b"ticks done" in node_output(m, sid), timeout=30, what="the program finishing unseen")
        assert alive_writer(pid)

        started = time.monotonic()
        srv2 = ServerProcess(town)
        srv2.wait_ready()
        ready = time.monotonic()
        conn = await connect(srv2, interactive=True)
        mirror = ScreenMirror()
        conn.on_event = mirror.feed
        agent = (await conn.request("subscribe", agents=[AGENT]))["agents"][0]
        await until(lambda: b"ticks done" in transcript(rec), timeout=60,
                    what="the output written while no server ran, in the new server's transcript")
        print(f"re-adoption: server ready {ready - started:.2f}s after its start; the output written while down "
              f"in its transcript {time.monotonic() - ready:.2f}s after ready")
        assert alive_writer(pid) and record(town)["remote_pid"] == pid  # the same program, adopted
        numbers = [int(n) for n in TICK.findall(transcript(rec))]
        assert numbers == list(range(1, TICKS + 1)), f"gap or repeat across the restart (killed at {at_kill})"
        await until(lambda: "ticks done" in mirror.text(agent) and f"tick {TICKS:06d}" in mirror.text(agent),
                    timeout=30, what="the screen showing what happened while the town was down")
        await until(lambda: acted(transcript(rec), "nudge-in-flight") == 1, timeout=60,
                    what="the nudge in flight at the kill, acted on")
        await until(lambda: acted(transcript(rec), "nudge-while-down") == 1, timeout=60,
                    what="the nudge queued while no server ran, acted on")
        await conn.request("focus", agent=agent)
        await conn.request("input", agent=agent, data=base64.b64encode(b"typed-after\r").decode())
        await until(lambda: "got typed-after" in mirror.text(agent), timeout=30, what="a key echoing")
        await asyncio.sleep(1.0)  # time for a duplicate to show, were one sent
        raw = transcript(rec)
        assert acted(raw, "nudge-before") == 1 and acted(raw, "nudge-while-down") == 1
        assert acted(raw, "nudge-in-flight") == 1  # typed by one server or the other, never by both
        assert raw.count(b"got typed-after") == 1
        status = await conn.request("status")
        mine = [a for a in status["agents"] if a["address"] == agent]
        assert mine and mine[0]["alive"], status["agents"]
        await conn.close()
    finally:
        for s in (srv, srv2):
            if s is not None:
                s.stop()
    assert not alive_writer(pid)  # the orderly stop ends it on the node (and forgets its record)
    assert not list(records_dir(town).glob("*.json"))


async def type_when_up(conn, agent: str, data: bytes, timeout: float = 60.0) -> None:
    from gastown_tui.client.connection import RemoteError

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await conn.request("input", agent=agent, data=base64.b64encode(data).decode())
            return
        except RemoteError as err:
            if err.code != "link-down" or asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)


def gastown(*args: str, timeout: float = 120):
    import subprocess

    return subprocess.run([sys.executable, "-m", "gastown_tui.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


async def test_up_upgrade_keeps_the_program_on_its_node(tmp_path, lab):
    """`gastown up --upgrade`: the keeper's new server takes the remote program over (same pid, the
    stream gapless across the handover, keys echo); then `kill -9` of that server: the keeper's next one
    takes it over again."""
    import os
    import signal

    from gastown_tui.client.connection import Connection, reconnect
    from gastown_tui.server import paths
    from server.serverkit import ScreenMirror, make_town

    town = make_town(tmp_path / "town")
    agent_address = "gastown/crew/far"
    settings = town / "settings" / "config.json"
    data = json.loads(settings.read_text())
    data["patrols"] = {"disabled": ["deacon", "boot", "dogs", "witness", "refinery"]}  # only this test acts
    settings.write_text(json.dumps(data))
    m = lab.machine("n1")
    place(town, m, agent_address)
    up = gastown("up", "--town", str(town))
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        conn = await Connection.to_town(str(town), client="test")
        await conn.request("spawn", agent=agent_address, argv=[sys.executable, "-c", WRITER], cwd=str(town),
                           cols=80, rows=24)
        rec = record(town)
        pid = rec["remote_pid"]
        old_server = conn.server["server_pid"]
        await until(lambda: len(TICK.findall(transcript(rec))) >= 15, timeout=30, what="the first numbered lines")
        await conn.close()
        done = await asyncio.get_running_loop().run_in_executor(None, lambda: gastown("up", "--upgrade", "--town",
                                                                                       str(town)))
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"server pid {old_server} -> " in done.stdout
        conn = await Connection.to_town(str(town), client="test", interactive=True)
        assert conn.server["server_pid"] != old_server
        mirror = ScreenMirror()
        conn.on_event = mirror.feed
        agent = (await conn.request("subscribe", agents=[agent_address]))["agents"][0]
        await until(lambda: b"ticks done" in transcript(rec), timeout=60, what="the stream after the upgrade")
        assert alive_writer(pid) and record(town)["remote_pid"] == pid
        numbers = [int(n) for n in TICK.findall(transcript(rec))]
        assert numbers == list(range(1, TICKS + 1)), "gap or repeat across the upgrade"
        await conn.request("focus", agent=agent)
        await conn.request("input", agent=agent, data=base64.b64encode(b"typed-after-upgrade\r").decode())
        await until(lambda: "got typed-after-upgrade" in mirror.text(agent), timeout=30, what="a key echoing")
        upgraded = conn.server["server_pid"]
        await conn.close()
        os.kill(upgraded, signal.SIGKILL)  # and kill -9 of the keeper's server: the keeper starts another
        conn = await reconnect(paths.socket_path(str(town)), client="test", timeout=60)
        assert conn.server["server_pid"] not in (upgraded, old_server)
        mirror = ScreenMirror()
        conn.on_event = mirror.feed
        agent = (await conn.request("subscribe", agents=[agent_address]))["agents"][0]
        await conn.request("focus", agent=agent)
        await type_when_up(conn, agent, b"typed-after-kill\r")  # refused (link-down) until its link is back
        await until(lambda: b"got typed-after-kill" in transcript(rec), timeout=60, what="a key after the kill")
        assert alive_writer(pid) and record(town)["remote_pid"] == pid
        raw = transcript(rec)
        assert raw.count(b"got typed-after-upgrade") == 1 and raw.count(b"ticks done") == 1
        await conn.close()
    finally:
        down = gastown("down", "--town", str(town))
        assert down.returncode == 0, down.stdout + down.stderr
    await until(lambda: not alive_writer(pid), timeout=30, what="`gastown down` ending the program on the node")


async def test_a_program_whose_killed_town_never_comes_back_is_hung_up_by_its_node(tmp_path, lab):
    """No twins, eventually: the town's hello told the node its grace (4 s here) and margin (1 s); killed and
    never restarted, the town says nothing more, and the node hangs its program up by itself."""
    import os

    from server.serverkit import ServerProcess, connect, make_town

    town = make_town(tmp_path / "town")
    settings = town / "settings" / "config.json"
    data = json.loads(settings.read_text())
    data.setdefault("timers", {})["node_grace"] = "4s"
    settings.write_text(json.dumps(data))
    m = lab.machine("n1")
    place(town, m)
    srv = ServerProcess(town, env={**os.environ, "GASTOWN_NODE_ORPHAN_MARGIN": "1"})
    try:
        srv.wait_ready()
        conn = await connect(srv, interactive=True)
        await conn.request("spawn", agent=AGENT, argv=[sys.executable, "-c", WRITER], cwd=str(town), cols=80, rows=24)
        pid = record(town)["remote_pid"]
        await until(lambda: len(TICK.findall(transcript(record(town)))) >= 5, timeout=30, what="the program running")
        await conn.close()
        srv.proc.kill()
        srv.proc.wait(10)
        assert alive_writer(pid)  # the town's death alone ends nothing (it may come back)...
        await until(lambda: not alive_writer(pid), timeout=30, what="the node hanging up the orphaned program")
        log = (m.home / "daemon" / "daemon.log").read_text()
        assert "said nothing for" in log, log[-2000:]
    finally:
        srv.stop()
