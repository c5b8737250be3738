"""A node daemon of another gastown version than the town's (docs/nodes.md, "Versions"), on a real sshd
"machine": `node check` names the node and both versions and says `gastown node install` is the fix;
`sling --node` places nothing there; a link to it keeps the programs already there but starts nothing new
(one error naming both versions); once its programs have ended, the town's own `node serve` replaces it
and the node is ready and takes a program again."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gastown_tui import __version__
from gastown_tui.nodes.link import NodeLink, VersionMismatch
from gastown_tui.nodes.registry import get_node
from gastown_tui.nodes.serve import daemon_version, socket_path
from gastown_tui.town.layout import Town
from nodes.test_faults_daemon import Town as DaemonConn
from nodes.test_faults_daemon import _alive, spawn_msg
from waiting import until

OLD = "0.0.9-old"
OLD_DAEMON = ("import sys, gastown_tui; gastown_tui.__version__ = %r\n"
              "from gastown_tui.nodes.node_daemon import main\nsys.exit(main(sys.argv[1:]))\n" % OLD)


def gastown(town: Path, *args):
    return subprocess.run([sys.executable, "-m", "gastown_tui.cli", *map(str, args)], cwd=town, capture_output=True,
                          text=True, timeout=180, env={**os.environ, "GT_TOWN": str(town)})


@pytest.fixture
def town_with_rig(tmp_path):
    from gastown_tui.town.install import install_town
    from gastown_tui.town.rigs import add_rig
    from kit.git import one_commit_repo

    project = one_commit_repo(tmp_path / "project", {"calc.py": "x = 1\n"}, message="calc")
    town = install_town(tmp_path / "town")
    add_rig(town, "calc", str(project))
    return town


async def test_a_daemon_of_another_version_is_named_gets_nothing_new_and_is_replaced_when_idle(town_with_rig, lab):
    from gastown_tui.town.ledgers import rig_ledger

    town = town_with_rig
    m = lab.machine("n1")
    root = m.home.resolve()
    assert gastown(town.root, "node", "add", "n1", f"ssh://{m.user}@{m.address}:{m.port}", "--dir", root,
                   "--python", sys.executable).returncode == 0
    with open(root / "old-daemon.log", "ab") as log:
        old = subprocess.Popen([sys.executable, "-c", OLD_DAEMON, "--dir", str(root)], stdin=subprocess.DEVNULL,
                               stdout=log, stderr=log, start_new_session=True)
    try:
        await until(lambda: daemon_version(root) == OLD and socket_path(root).exists(), timeout=20,
                    what="the old daemon serving")
        # It runs a program (started by a town of its own version): the program must not be harmed.
        conn = await DaemonConn(root).open(as_is=True)
        conn.send({"op": "hello"})
        conn.send(spawn_msg("old-1"))
        old_prog = (await conn.wait(lambda e: e.get("ev") == "spawned", "spawned on the old daemon"))["pid"]
        conn.close()

        check = gastown(town.root, "node", "check", "n1")
        assert check.returncode != 0
        said = check.stdout + check.stderr
        assert f"node n1: its node daemon runs gastown {OLD}, the town runs {__version__}" in said, said
        assert "gastown node install n1" in said

        bead = rig_ledger(town, "calc").create("Work", actor="overseer").id
        slung = gastown(town.root, "sling", bead, "calc", "--node", "n1")
        assert slung.returncode != 0 and "nothing was placed there" in slung.stderr and OLD in slung.stderr
        assert not (town.root / ".runtime" / "nodes" / "placements.json").exists()
        assert rig_ledger(town, "calc").get(bead).status == "open"  # not hooked

        link = NodeLink(get_node(Town(town.root), "n1"))
        await link.open()  # the channel is the same: the programs already there can be resumed
        with pytest.raises(VersionMismatch) as err:
            await link.spawn(None, ["true"], "work", {}, 80, 24)
        text = str(err.value)
        assert f"gastown {OLD}, the town runs {__version__}" in text and "gastown node install n1" in text
        assert "1 program(s) running there" in text and "nothing was started there" in text
        assert _alive(old_prog) and old.poll() is None  # nothing harmed

        os.kill(old_prog, signal.SIGTERM)  # its last program ends...
        await until(lambda: not _alive(old_prog), what="the old program ending")
        await link.close(hangup=False)
        again = NodeLink(get_node(Town(town.root), "n1"))  # ...the next `node serve` replaces the idle daemon
        hello = await again.open()
        assert hello["version"] == __version__
        await until(lambda: old.poll() is not None, timeout=20, what="the old daemon ending")
        assert daemon_version(root) == __version__

        class Sink:
            sid = None
            recv_seq = 0

            def __init__(self):
                self.out = b""

            def on_output(self, data):
                self.out += data

            def on_exit(self, status):
                pass

            def on_link_down(self, reason):
                pass

            def on_link_up(self):
                pass

            def on_link_lost(self, reason):
                pass

        sink = Sink()
        await again.spawn(sink, [sys.executable, "-c", "print('new version here')"], "work", {}, 80, 24)
        await until(lambda: b"new version here" in sink.out, what="a program started on the replaced daemon")
        await again.close()
        ready = gastown(town.root, "node", "check", "n1")
        assert ready.returncode == 0, ready.stdout + ready.stderr
    finally:
        if old.poll() is None:
            old.kill()
            old.wait(10)
