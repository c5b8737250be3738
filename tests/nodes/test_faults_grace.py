"""A node gone past the grace (docs/nodes.md, "Faults"; nodes/grace.py), on a real sshd "machine": a sim
polecat slung there with `sling --node` commits; the town collects the commit while the link is up; the
link is cut (netns) or the node's sshd killed (loopback) for longer than the grace (3 s here). Its
session is marked dead and its bead re-slung to a new polecat — or, when the town does not hold the last
commit the node reported, held on its hook. When the node comes back, its branch (with a commit made
during the outage) is collected into the rig, nothing thrown away, and the old program is stopped."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gastown_tui.nodes import grace as grace_mod
from gastown_tui.nodes import link as link_mod
from gastown_tui.nodes.placement import placement_of
from gastown_tui.nodes.provider import provider_for
from gastown_tui.sessions.manager import SessionManager
from gastown_tui.sessions.spec import SessionSpec
from kit.git import one_commit_repo
from waiting import until

BEAD_TEXT = """Add subtract, then keep working.

sim: write ops.py
    def sub(a, b):
        return a - b
sim: commit add sub
sim: sleep 600
"""


def gastown(cwd, *args, env=None):
    return subprocess.run([sys.executable, "-m", "gastown_tui.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=180, env={**os.environ, **(env or {})})


def git(cwd, *args) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def town_with_rig(tmp_path, monkeypatch):
    from gastown_tui.town.install import install_town
    from gastown_tui.town.rigs import add_rig

    monkeypatch.setattr(link_mod, "LINK_TIMEOUT", 2.0)
    monkeypatch.setattr(link_mod, "PING_INTERVAL", 0.5)
    monkeypatch.setattr(grace_mod, "COLLECT_DELAY", 0.5)
    project = one_commit_repo(tmp_path / "project", {"calc.py": "def add(a, b):\n    return a + b\n"}, message="calc")
    town = install_town(tmp_path / "town")
    rig = add_rig(town, "calc", str(project))
    settings = town.root / "settings" / "config.json"
    data = json.loads(settings.read_text())
    data.setdefault("timers", {})["node_grace"] = "3s"
    settings.write_text(json.dumps(data))
    return town, rig


async def _gone_and_back(town, rig, lab, *, collect: bool, second_node: bool = False, restart: bool = False):
    from nodes.sshd import NETNS

    from gastown_tui.town.ledgers import rig_ledger

    m = lab.machine("n1")
    env = {"GT_TOWN": str(town.root)}
    assert gastown(town.root, "node", "add", "n1", f"ssh://{m.user}@{m.address}:{m.port}", "--dir", m.home,
                   "--python", sys.executable, env=env).returncode == 0
    if second_node:  # the town machine takes no polecats: a re-sling must be placed on n2
        m2 = lab.machine("n2")
        assert gastown(town.root, "node", "add", "n2", f"ssh://{m2.user}@{m2.address}:{m2.port}", "--dir", m2.home,
                       "--python", sys.executable, env=env).returncode == 0
        settings = town.root / "settings" / "config.json"
        data = json.loads(settings.read_text())
        data["local_max_polecats"] = 0
        settings.write_text(json.dumps(data))
    bead = rig_ledger(town, "calc").create("Add subtract", actor="overseer", description=BEAD_TEXT).id
    res = gastown(town.root, "sling", bead, "calc", "--node", "n1", "--json", env=env)
    assert res.returncode == 0, res.stderr
    slung = json.loads(res.stdout)
    address, branch = slung["agent"], slung["branch"]
    _, wt = placement_of(town, address)
    mgr = SessionManager(town.root, keeper=None)
    mgr.provider = provider_for(town.root)
    session = await mgr.spawn(SessionSpec(agent=address, preset="sim", cwd=Path(slung["worktree"]), town=town.root,
                                          cols=100, rows=30))
    watch = mgr.provider.watch
    link = session.link
    mgr2 = None
    try:
        await until(lambda: "def sub" in (Path(wt.path) / "ops.py").read_text(errors="replace")
                    if (Path(wt.path) / "ops.py").exists() else False, timeout=90, what="the sim agent's work")
        await until(lambda: git(wt.path, "log", "-1", "--format=%s") == "add sub", timeout=30, what="its commit")
        node_commit = git(wt.path, "rev-parse", "HEAD")
        await until(lambda: link.heads.get(session.sid) == node_commit, timeout=15, what="the node reporting it")
        if collect:
            await until(lambda: watch.collected.get(branch) == node_commit, timeout=30,
                        what="the town collecting the commit while the link is up")
        pid = session.remote_pid
        if lab.topology == NETNS:
            print("outage: ip link set … down (netns)")
            m.cut()
        else:
            print("outage: the node's sshd killed (loopback)")
            m.kill_sshd()
        await until(lambda: session.exited, timeout=40, what="the polecat marked dead after the grace")
        assert session.exit_status == -1 and "node grace" in session.link_note, session.link_note
        assert alive(pid)  # dead to the town; still running on the node
        issue = rig_ledger(town, "calc").get(bead)
        [gone] = watch.gone["n1"]
        if collect:
            assert gone.decision == "resling", gone
            assert issue.status == "hooked" and issue.assignee == gone.resling_to != address
            placed = placement_of(town, gone.resling_to)
            if second_node:  # through placement, never onto the gone node
                assert placed is not None and placed[0] == "n2", placed
                assert Path(placed[1].path).is_dir()  # its clone made on n2
                assert any(e["payload"].get("placed_on") == "n2" for e in map(json.loads, town.events_path.read_text().splitlines())
                           if e["type"] == "node_gone")
            else:
                assert placed is None  # re-slung elsewhere (here: the town itself)
        else:
            assert gone.decision == "held", gone
            assert issue.status == "hooked" and issue.assignee == address  # the node may still deliver it
        # The agent goes on working on the node during the outage (a commit the town cannot know about).
        Path(wt.path, "more.py").write_text("x = 2\n")
        git(wt.path, "add", "more.py")
        git(wt.path, "-c", "user.name=sim", "-c", "user.email=sim@example.com", "commit", "-q", "-m", "during the outage")
        late = git(wt.path, "rev-parse", "HEAD")
        if restart:  # the town server dies meanwhile (no hangup); a new one starts with what the old one wrote
            watch.close()
            await link.close(hangup=False)
            mgr2 = SessionManager(town.root, keeper=None)
            mgr2.provider = provider_for(town.root)
            await mgr2.start()  # re-adopts nothing here, and watches the given-up node for its return
            watch = mgr2.provider.watch
            assert watch is not None and [g.agent for g in watch.gone["n1"]] == [address]
        if lab.topology == NETNS:
            m.heal()
        else:
            m.start()
        await until(lambda: watch.returned, timeout=60, what="the returning node's work collected")
        [back] = watch.returned
        assert back["commit"] == late and back["new"] and back["agent"] == address
        assert git(rig.repo, "rev-parse", f"refs/nodes/n1/{branch}") == late  # collected, nothing thrown away
        assert node_commit in git(rig.repo, "rev-list", f"refs/nodes/n1/{branch}")
        await until(lambda: not alive(pid), timeout=20, what="the given-up program stopped on the node")
        if collect:  # re-slung: the node no longer counts it; held: it is still the node's polecat
            await until(lambda: placement_of(town, address) is None, timeout=10, what="the placement forgotten")
        else:
            assert placement_of(town, address) is not None
        events = [json.loads(line) for line in town.events_path.read_text().splitlines()]
        kinds = [e["type"] for e in events if e["type"] in ("node_gone", "node_work_collected")]
        assert kinds == ["node_gone", "node_work_collected"], kinds
    finally:
        for manager in (mgr, mgr2):
            if manager is not None:
                await manager.close()
                await manager.provider.close()


async def test_a_node_gone_past_the_grace_has_its_bead_reslung_and_its_work_collected_on_return(town_with_rig, lab):
    town, rig = town_with_rig
    await _gone_and_back(town, rig, lab, collect=True)


async def test_a_commit_the_town_has_not_fetched_holds_the_bead_on_its_hook(town_with_rig, lab, monkeypatch):
    monkeypatch.setattr(grace_mod, "COLLECT_DELAY", 10_000.0)  # the node's commit is reported, never fetched
    town, rig = town_with_rig
    await _gone_and_back(town, rig, lab, collect=False)


async def test_a_bead_reslung_after_the_grace_is_placed_and_never_on_the_gone_node(town_with_rig, lab):
    """The re-sling goes through placement (`sling_placed`, the gone node excluded), outside the town's write
    lock: with the town machine taking no polecats, the new polecat lands on the other node."""
    town, rig = town_with_rig
    await _gone_and_back(town, rig, lab, collect=True, second_node=True)


async def test_a_town_restarted_after_the_grace_still_collects_the_returning_nodes_work(town_with_rig, lab):
    """The give-up is kept in `.runtime/nodes/gone.json`: a town server started after it watches the node and
    collects the given-up polecat's branch (with the commit made during the outage) when the node returns."""
    town, rig = town_with_rig
    await _gone_and_back(town, rig, lab, collect=True, restart=True)
