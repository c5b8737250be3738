"""Link faults on a real sshd "machine" (docs/nodes.md, "Faults"): while a remote program writes numbered
lines, the link is cut (netns lab: `ip link set … down`; loopback lab: the ssh client killed and the
node's sshd stopped until the "heal") or the node's sshd is killed and restarted. The program keeps
running on the node (same pid), the town's screen resumes with every numbered line exactly once, keys
typed while the link is down are refused with a message, and a nudge sent across the cut is typed once.
A relayed `bd create` whose answer is lost in a cut runs once: one ledger write, not zero, not two."""
from __future__ import annotations

import asyncio
import os
import re
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gastown_tui.nodes import link as link_mod
from gastown_tui.nodes.link import UP, NodeLink
from gastown_tui.nodes.registry import Node
from gastown_tui.nodes.remote_session import RemoteSession
from gastown_tui.sessions.spec import SessionSpec
from waiting import until

WRITER = textwrap.dedent("""
    import os, sys, threading, time
    def keys():
        for line in sys.stdin:
            os.write(1, ("got " + line.strip() + "\\n").encode())
    threading.Thread(target=keys, daemon=True).start()
    os.write(1, b"ready>\\n")
    i = 0
    while True:
        i += 1
        os.write(1, b"tick %06d\\n" % i)
        time.sleep(0.02)
""")

TICK = re.compile(rb"tick (\d{6})")


@pytest.fixture
def town(tmp_path):
    from gastown_tui.town.install import install_town

    return install_town(tmp_path / "town")


@pytest.fixture
def fast_link(monkeypatch):
    """A link declared down after 2 s of silence (the product's default is 4 s)."""
    monkeypatch.setattr(link_mod, "LINK_TIMEOUT", 2.0)
    monkeypatch.setattr(link_mod, "PING_INTERVAL", 0.5)


def node_for(machine, name="n1") -> Node:
    return Node(name=name, host=machine.address, user=machine.user, port=machine.port, dir=str(machine.home),
                python=sys.executable)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def ticks(session) -> list[int]:
    session.transcript.flush()
    return [int(n) for n in TICK.findall(session.transcript.raw_path.read_bytes())]


def assert_no_gap(numbers: list[int]) -> None:
    assert numbers, "no numbered line reached the town"
    assert numbers == list(range(1, len(numbers) + 1)), (
        f"gap or repeat in the resumed stream: first bad index "
        f"{next(i for i, n in enumerate(numbers) if n != i + 1)} of {len(numbers)}")


async def _across_an_outage(town, lab, break_link, restore_link, outage: float):
    m = lab.machine("n1")
    link = NodeLink(node_for(m))
    await link.open()
    s = RemoteSession(SessionSpec(agent="gastown/polecats/nux", preset="shell", cwd="polecats/nux", town=town.root,
                                  argv=[sys.executable, "-c", WRITER], cols=80, rows=24), link)
    await s.start()
    try:
        await until(lambda: len(ticks(s)) >= 20, what="the program's first numbered lines")
        pid = s.remote_pid
        assert alive(pid)
        break_link(m, link)
        await until(lambda: link.state != UP, timeout=20, what="the town noticing the link is down")
        assert s.alive and not s.exited  # not declared dead
        refused = s.input_refused()
        assert refused and "node n1" in refused and "still running" in refused
        s.write(b"typed-while-down\r")
        assert s.refused and not s.link.inputs.pending(s.sid)  # refused, not queued into a void
        nudge = asyncio.ensure_future(s.submit("nudge-across-the-cut"))
        seen_before = max(ticks(s))
        await asyncio.sleep(outage)
        assert alive(pid), "the agent on the node died with the link"
        assert not nudge.done()  # it waits for the link
        restore_link(m, link)
        healed_at = time.monotonic()
        await until(lambda: link.state == UP, timeout=30, what="the link coming back")
        await until(lambda: max(ticks(s)) > seen_before + 10, timeout=10, what="the stream resuming")
        resumed_in = time.monotonic() - healed_at
        print(f"stream resumed {resumed_in:.2f}s after the link came back (reconnects: {link.reconnects})")
        result = await asyncio.wait_for(nudge, 30)
        assert result.submitted, result
        await until(lambda: b"got nudge-across-the-cut" in s.transcript.raw_path.read_bytes()
                    or (s.transcript.flush() and False), timeout=10, what="the nudge acted on")
        assert s.remote_pid == pid and alive(pid)  # the same program, never restarted
        await s.stop(1)
    finally:
        if not s.exited:
            await s.stop(1)
        await link.close()
    numbers = ticks(s)
    assert_no_gap(numbers)
    raw = s.transcript.raw_path.read_bytes()
    assert raw.count(b"got nudge-across-the-cut") == 1
    assert b"typed-while-down" not in raw
    assert link.gaps == 0
    return numbers


async def test_a_cut_link_keeps_the_agent_running_and_the_screen_resumes_with_no_gap(town, lab, fast_link):
    from nodes.sshd import NETNS

    if lab.topology == NETNS:
        print("cut: ip link set … down (netns)")
        await _across_an_outage(town, lab, lambda m, link: m.cut(), lambda m, link: m.heal(), outage=2.0)
    else:
        print("cut: the ssh client killed and the node's sshd stopped (loopback)")

        def cut(m, link):
            m.stop()
            link.cut_now("ssh client killed by the test")

        await _across_an_outage(town, lab, cut, lambda m, link: m.start(), outage=3.0)


async def test_the_nodes_sshd_killed_and_restarted(town, lab, fast_link):
    print("sshd: every sshd process of the machine SIGKILLed, then started again")
    await _across_an_outage(town, lab, lambda m, link: m.kill_sshd(), lambda m, link: m.start(), outage=2.0)


async def test_a_relayed_ledger_write_whose_answer_is_lost_in_a_cut_runs_once(town, lab, fast_link):
    """`bd create` from the node reaches the town, runs, and the answer is lost when the link drops; the
    node asks again on the new connection and gets the first run's answer: one bead, not two."""
    from gastown_tui.nodes.relay import TownRelay
    from gastown_tui.town.polecats import spawn_polecat
    from gastown_tui.town.rigs import add_rig
    from kit.git import one_commit_repo

    project = one_commit_repo(town.root.parent / "project", {"a.py": "x = 1\n"}, message="a")
    add_rig(town, "calc", str(project))
    nux = spawn_polecat(town, "calc", name="nux")
    m = lab.machine("n1")
    node = node_for(m)
    link = NodeLink(node)
    relay = TownRelay(town.root, node)
    runs = []
    ran = asyncio.Event()

    async def slow_then_cut(handler, argv, cwd):
        runs.append(list(argv))
        res = await relay(handler, argv, cwd)
        link.cut_now("cut while the answer was on its way")  # the answer below is lost with this connection
        await until(lambda: link.state != UP, timeout=10, what="the link down")
        ran.set()
        return res

    link.execs.runner = slow_then_cut
    await link.open()
    s = RemoteSession(SessionSpec(agent="calc/polecats/nux", preset="shell", cwd=Path("x"), town=town.root,
                                  argv=["sh", "-c", "bd create 'written once across a cut' --json; echo STATUS=$?"]),
                      link, relay=True, local_cwd=Path(nux.worktree))
    await s.start()
    try:
        status = await s.wait_exit(60)
        assert status == 0, (status, link.state, link.reconnects, link.lost_reason, link.errors, s.screen.text())
    finally:
        await link.close()
    assert ran.is_set() and len(runs) == 1, runs  # asked again after the reconnect, run once
    assert link.reconnects >= 1
    assert "STATUS=0" in s.screen.text()
    from gastown_tui.town.ledgers import rig_ledger

    titles = [b.title for b in rig_ledger(town, "calc").all() if b.title == "written once across a cut"]
    assert len(titles) == 1, titles
