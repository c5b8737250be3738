"""Adoption without the keeper process: a real session hands its PTY over a real socket pair (the test plays
the keeper's side of the link), its manager lets go without stopping it, and a second manager adopts it — the
same pid, the screen rebuilt from the transcript, input and exit working. The agent stays this process's
child here, so the exit status comes from waitpid (the path an in-place re-exec would take)."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import sys

import pytest

from gastown_tui.sessions.kept import Kept, KeeperLink
from gastown_tui.sessions.manager import SessionManager
from gastown_tui.sessions.spec import SessionSpec
from tests.waiting import until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SCM_RIGHTS and pidfd: Linux")


def keeper_recv(sock: socket.socket) -> tuple[dict, list[int]]:
    data, fds, _, _ = socket.recv_fds(sock, 1 << 20, 16)
    return json.loads(data), fds


def test_a_session_handed_over_a_socket_is_adopted_by_a_new_manager(tmp_path):
    async def scenario():
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        mine.send(json.dumps({"op": "kept", "agents": []}).encode())  # the keeper holds nothing yet
        first = SessionManager(tmp_path, keeper=KeeperLink(theirs))
        agent = "rig/polecats/cat"
        s1 = await first.spawn(SessionSpec(agent=agent, preset="shell", cwd=tmp_path, town=tmp_path,
                                           argv=["cat"], cols=50, rows=10))
        assert keeper_recv(mine)[0] == {"op": "adopt"}  # a manager under a keeper asks first
        msg, fds = keeper_recv(mine)
        assert msg["op"] == "keep" and msg["pid"] == s1.pid and len(fds) == 1
        assert msg["record"]["agent"] == agent and msg["record"]["session_id"] == s1.id
        s1.write(b"before the handover\n")
        assert await until(lambda: any("before the handover" in l for l in s1.screen.lines()))
        pid, sid = s1.pid, s1.id
        first.abandon()  # the server "dies": nothing stopped, nothing closed by finalizers
        for task in (s1._watch_task,):
            task.cancel()
        asyncio.get_running_loop().remove_reader(s1._fd)  # this server reads no more

        link_mine, link_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        second = SessionManager(tmp_path, keeper=KeeperLink(link_theirs))
        starting = asyncio.get_running_loop().create_task(second.start())
        ask = await asyncio.get_running_loop().run_in_executor(None, keeper_recv, link_mine)
        assert ask[0] == {"op": "adopt"}
        socket.send_fds(link_mine, [json.dumps({"op": "kept", "agents": [{"pid": pid, "status": None,
                                                                             "record": msg["record"]}]}).encode()], fds)
        await starting
        s2 = second.get(agent)
        assert s2 is not None and s2 is not s1 and s2.adopted
        assert (s2.pid, s2.id, s2.transcript_dir) == (pid, sid, s1.transcript_dir)
        assert any("before the handover" in l for l in s2.screen.lines())  # rebuilt from transcript.raw
        assert (s2.screen.cols, s2.screen.rows) == (50, 10)
        s2.write(b"after the handover\n")
        assert await until(lambda: any("after the handover" in l for l in s2.screen.lines()))
        raw = (s2.transcript_dir / "transcript.raw").read_bytes()
        assert raw.count(b"before the handover") == 2 and b"after the handover" in raw  # echo + cat's copy, once

        status = await second.stop(agent, grace=0.5)
        assert status is not None and s2.exited
        release = await asyncio.get_running_loop().run_in_executor(None, keeper_recv, link_mine)
        assert release[0] == {"op": "release", "pid": pid}
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped by the adopting session (it is this process's child)
        await second.close()
        for s in (mine, theirs, link_mine):
            s.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_an_agent_that_died_before_adoption_is_recorded_with_the_keepers_status(tmp_path):
    async def scenario():
        import pexpect

        child = pexpect.spawn("sh", ["-c", "echo bye; exit 3"])
        child.expect(pexpect.EOF)
        fd = os.dup(child.child_fd)
        child.wait()  # reaped here, as the keeper would have: the status travels in the `kept` message
        link_mine, link_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        mgr = SessionManager(tmp_path, keeper=KeeperLink(link_theirs))
        kept = Kept(child.pid, fd, {"agent": "rig/polecats/gone", "session_id": "abc123def456", "preset": "shell",
                                    "transcript_dir": str(tmp_path / "t"), "spec": {"cwd": str(tmp_path)}}, 3)
        mgr.keeper._statuses[child.pid] = 3
        from gastown_tui.sessions.session import Session

        s = Session(SessionSpec(agent="rig/polecats/gone", preset="shell", cwd=tmp_path, town=tmp_path), mgr.presets)
        await s.adopt(kept, mgr.keeper)
        assert await s.wait_exit(10) == 3
        assert s.id == "abc123def456"
        meta = json.loads((tmp_path / "t" / "meta.json").read_text())
        assert meta["exit_status"] == 3 and meta["pid"] == child.pid
        await mgr.close()
        link_mine.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))
