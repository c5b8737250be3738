"""A program in a PTY on a node (a real sshd on loopback, `gastown node serve` at the other end): the town's
Session shows its bytes on the same VT screen and transcript as a local one, its keys and size arrive, its
exit status comes back, and the town's own environment never crosses."""
from __future__ import annotations

import asyncio
import sys
import textwrap

import pytest

from gastown_tui.nodes.link import NodeLink
from gastown_tui.nodes.registry import Node
from gastown_tui.nodes.remote_session import RemoteSession
from gastown_tui.nodes.ssh import NodeError
from gastown_tui.sessions.spec import SessionSpec
from waiting import until

ECHO = textwrap.dedent("""
    import os, sys, shutil
    print("ready>", flush=True)
    for line in sys.stdin:
        line = line.strip()
        if line == "size":
            c, r = shutil.get_terminal_size()
            print(f"size {c}x{r}", flush=True)
        elif line == "where":
            print("cwd " + os.getcwd(), flush=True)
            print("agent " + os.environ.get("GT_AGENT", "-"), flush=True)
            print("secret " + os.environ.get("TOWN_SECRET", "none"), flush=True)
        elif line == "quit":
            print("bye", flush=True)
            sys.exit(3)
        else:
            print(f"got {line}", flush=True)
""")

STUBBORN = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nprint('stubborn', flush=True)\ntime.sleep(600)\n"


@pytest.fixture
def town(tmp_path):
    from gastown_tui.town.install import install_town

    return install_town(tmp_path / "town")


def node_for(machine, name="n1") -> Node:
    return Node(name=name, host=machine.address, user=machine.user, port=machine.port, dir=str(machine.home),
                python=sys.executable)


def spec(town, argv, cwd="polecats/nux"):
    return SessionSpec(agent="gastown/polecats/nux", preset="shell", cwd=cwd, town=town.root, argv=argv,
                       cols=80, rows=24)


async def test_a_remote_program_shows_on_the_town_screen_and_takes_keys(town, lab, monkeypatch):
    monkeypatch.setenv("TOWN_SECRET", "s3cret")
    m = lab.machine("n1")
    link = NodeLink(node_for(m))
    hello = await link.open()
    assert hello["dir"] == str(m.home.resolve())
    s = RemoteSession(spec(town, [sys.executable, "-c", ECHO]), link)
    await s.start()
    try:
        await until(lambda: "ready>" in s.screen.text(), what="the remote prompt on the town's screen")
        s.write(b"hello node\r")
        await until(lambda: "got hello node" in s.screen.text(), what="the typed line echoed back")
        s.resize(100, 30)
        s.write(b"size\r")
        await until(lambda: "size 100x30" in s.screen.text(), what="the new size on the node")
        s.write(b"where\r")
        await until(lambda: "secret " in s.screen.text(), what="the environment report")
        text = s.screen.text()
        assert f"cwd {(m.home / 'polecats' / 'nux').resolve()}" in text.replace("\n", "")  # a long path wraps
        assert "agent gastown/polecats/nux" in text
        assert "secret none" in text  # the town's environment stays in the town
        s.write(b"quit\r")
        assert await s.wait_exit(30) == 3
    finally:
        if not s.exited:
            await s.stop(1)
        await link.close()
    raw = s.transcript.raw_path.read_bytes()
    assert b"got hello node" in raw and b"bye" in raw  # every byte, including the last, in the transcript
    meta = (s.transcript_dir / "meta.json").read_text()
    assert '"node": "n1"' in meta and '"exit_status": 3' in meta


async def test_stop_reaches_the_remote_program(town, lab):
    m = lab.machine("n1")
    link = NodeLink(node_for(m))
    await link.open()
    s = RemoteSession(spec(town, [sys.executable, "-c", STUBBORN]), link)
    await s.start()
    try:
        await until(lambda: "stubborn" in s.screen.text(), what="the program's first line")
        status = await asyncio.wait_for(s.stop(grace=0.5), 60)
        assert status == -15  # quit keys ignored: SIGTERM, sent to the node, ended it
    finally:
        await link.close()


async def test_two_sessions_share_one_connection(town, lab):
    m = lab.machine("n1")
    link = NodeLink(node_for(m))
    await link.open()
    a = RemoteSession(spec(town, [sys.executable, "-c", ECHO], cwd="polecats/a"), link)
    b = RemoteSession(SessionSpec(agent="gastown/polecats/b", preset="shell", cwd="polecats/b", town=town.root,
                                  argv=[sys.executable, "-c", ECHO]), link)
    await a.start()
    await b.start()
    try:
        await until(lambda: "ready>" in a.screen.text() and "ready>" in b.screen.text(), what="both prompts")
        a.write(b"for-a\r")
        b.write(b"for-b\r")
        await until(lambda: "got for-a" in a.screen.text() and "got for-b" in b.screen.text(), what="both echoes")
        assert "for-b" not in a.screen.text() and "for-a" not in b.screen.text()
        assert link.proc is not None and len(link.handlers) == 2  # one ssh process, two sessions
    finally:
        for s in (a, b):
            s.write(b"quit\r")
        assert await a.wait_exit(30) == 3 and await b.wait_exit(30) == 3
        await link.close()


async def test_a_link_to_an_untrusted_host_is_a_clear_error(lab):
    m = lab.machine("stranger", trusted=False)
    link = NodeLink(node_for(m, "stranger"))
    with pytest.raises(NodeError) as err:
        await link.open()
    assert str(err.value).startswith(f"node stranger ({m.user}@{m.address}:{m.port}): unknown host key")


async def test_a_bad_spawn_is_an_error_and_the_node_keeps_serving(town, lab):
    m = lab.machine("n1")
    link = NodeLink(node_for(m))
    await link.open()
    try:
        bad = RemoteSession(spec(town, [sys.executable, "-c", ECHO], cwd="/etc"), link)
        with pytest.raises(NodeError) as err:
            await bad.start()
        assert "node n1:" in str(err.value) and "outside the node's folder" in str(err.value)
        link._send({"op": "nonsense"})
        link.proc.stdin.write(b"not json\n")
        good = RemoteSession(spec(town, [sys.executable, "-c", ECHO]), link)
        await good.start()
        await until(lambda: "ready>" in good.screen.text(), what="a session started after the bad lines")
        good.write(b"quit\r")
        assert await good.wait_exit(30) == 3
        assert any("unknown op 'nonsense'" in e for e in link.errors)
    finally:
        await link.close()


async def test_a_nudge_to_a_remote_program_is_typed_once(town, lab):
    """`submit` (what nudges use) is the local code: typed, Enter, confirmed; the program gets it once."""
    m = lab.machine("n1")
    link = NodeLink(node_for(m))
    await link.open()
    s = RemoteSession(spec(town, [sys.executable, "-c", ECHO]), link)
    await s.start()
    try:
        await until(lambda: "ready>" in s.screen.text(), what="the prompt")
        result = await s.submit("nudge-one")
        assert result.submitted, result
        await until(lambda: "got nudge-one" in s.screen.text(), what="the nudge acted on")
        s.write(b"quit\r")
        assert await s.wait_exit(30) == 3
    finally:
        await link.close()
    assert s.transcript.raw_path.read_bytes().count(b"got nudge-one") == 1
