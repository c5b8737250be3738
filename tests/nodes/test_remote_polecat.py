"""End to end on a node: `gastown sling BEAD RIG --node n1` places a polecat on a second "machine" (a real
sshd on loopback with its own folder); the simulated agent runs there in a PTY owned by `gastown node
serve`, its `gt` commands are relayed to the town through its own socket and the SSH connection, it
commits on the node, `gt done` brings its branch back and submits it, and the Refinery's merge lands it
on the rig's target branch with the rig's tests passing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gastown_tui.nodes.placement import load_placements, placement_of
from gastown_tui.nodes.provider import provider_for
from gastown_tui.nodes.remote_session import RemoteSession
from gastown_tui.sessions.manager import SessionManager
from gastown_tui.sessions.spec import SessionSpec
from kit.git import one_commit_repo
from kit.process import end_process
from waiting import until

BEAD_TEXT = """Add subtract.

sim: write ops.py
    def sub(a, b):
        return a - b
sim: write test_ops.py
    from ops import sub


    def test_sub():
        assert sub(5, 3) == 2
sim: commit add sub
"""


def gastown(cwd, *args, env=None):
    return subprocess.run([sys.executable, "-m", "gastown_tui.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=180, env={**os.environ, **(env or {})})


@pytest.fixture
def town_with_rig(tmp_path):
    from gastown_tui.town.install import install_town
    from gastown_tui.town.rigs import add_rig

    project = one_commit_repo(tmp_path / "project", {
        "calc.py": "def add(a, b):\n    return a + b\n",
        "test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"}, message="calc")
    town = install_town(tmp_path / "town")
    rig = add_rig(town, "calc", str(project), gate=f"{sys.executable} -m pytest -q -p no:cacheprovider")
    return town, rig


def git(cwd, *args) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


async def test_a_sim_polecat_on_a_node_works_one_bead_and_the_refinery_merges_it(town_with_rig, lab):
    from gastown_tui.town.ledgers import rig_ledger
    from gastown_tui.town.mq import list_mrs
    from gastown_tui.vcs.merge import MERGED, merge_branch

    town, rig = town_with_rig
    m = lab.machine("n1")
    env = {"GT_TOWN": str(town.root)}
    assert gastown(town.root, "node", "add", "n1", f"ssh://{m.user}@{m.address}:{m.port}", "--dir", m.home,
                   "--python", sys.executable, "--max-polecats", "2", env=env).returncode == 0
    bead = rig_ledger(town, "calc").create("Add subtract", actor="overseer", description=BEAD_TEXT).id

    res = gastown(town.root, "sling", bead, "calc", "--node", "n1", "--json", env=env)
    assert res.returncode == 0, res.stderr
    slung = json.loads(res.stdout)
    address, branch = slung["agent"], slung["branch"]
    assert slung["node"] == "n1" and slung["node_worktree"].startswith(str(m.home.resolve()))
    node_name, wt = placement_of(town, address)
    assert node_name == "n1" and wt.branch == branch
    listed = json.loads(gastown(town.root, "node", "list", "--json", env=env).stdout)
    assert listed[0]["polecats"] == [address]
    assert "1/2" in gastown(town.root, "node", "list", env=env).stdout
    second = rig_ledger(town, "calc").create("Another", actor="overseer").id
    third = rig_ledger(town, "calc").create("Third", actor="overseer").id
    assert gastown(town.root, "sling", second, "calc", "--node", "n1", env=env).returncode == 0  # 2 of 2
    full = gastown(town.root, "sling", third, "calc", "--node", "n1", env=env)
    assert full.returncode == 1 and "node n1 is full (2 of 2 polecats); nothing was placed there" in full.stderr
    assert rig_ledger(town, "calc").get(third).status == "open"
    refused = gastown(town.root, "node", "remove", "n1", env=env)
    assert refused.returncode == 1 and "still has polecats placed on it" in refused.stderr and address in refused.stderr
    assert git(wt.path, "symbolic-ref", "--short", "HEAD") == branch  # its clone on the node, on its branch

    # The session manager (as the town server sets it up) asks the node provider where the agent runs.
    mgr = SessionManager(town.root, keeper=None)
    mgr.provider = provider_for(town.root)
    session = await mgr.spawn(SessionSpec(agent=address, preset="sim", cwd=Path(slung["worktree"]), town=town.root,
                                          cols=100, rows=30))
    assert isinstance(session, RemoteSession) and session.node == "n1"
    relay = session.link.execs.runner
    try:
        ledger = rig_ledger(town, "calc")
        await until(lambda: any(mr.branch == branch for mr in list_mrs(town, "calc")), timeout=120,
                    what=f"{address}'s merge request (screen:\n{session.screen.text()}\n)")
    finally:
        await mgr.close()
        await mgr.provider.close()

    # Every gt call ran in the town as this polecat, and the work was committed on the node.
    print("relayed:", relay.ran)
    assert relay.ran and all(agent == address for agent, _, _ in relay.ran)
    assert ["gt", "done"] in [argv for _, argv, _ in relay.ran]
    assert "def sub" in Path(wt.path, "ops.py").read_text()
    node_head = git(wt.path, "rev-parse", "HEAD")
    assert git(rig.repo, "rev-parse", f"refs/heads/{branch}") == node_head  # pushed back to the rig
    # The Refinery's merge (vcs.merge, with the rig's gate) lands it on the target.
    result = merge_branch(rig.refinery_worktree, branch, gate=rig.gate)
    assert result.status == MERGED, result
    assert "def sub" in git(rig.repo, "show", "main:ops.py")
    assert node_head in git(rig.repo, "rev-list", "main")  # the node's commit itself, none lost
    assert ledger.get(bead).status == "in_progress"


def test_sling_to_a_node_that_is_not_ready_places_nothing(town_with_rig, lab):
    from gastown_tui.town.ledgers import rig_ledger

    town, rig = town_with_rig
    env = {"GT_TOWN": str(town.root)}
    stranger = lab.machine("stranger", trusted=False)
    locked = lab.machine("locked", key_allowed=False)
    for name, m in (("stranger", stranger), ("locked", locked)):
        assert gastown(town.root, "node", "add", name, f"ssh://{m.user}@{m.address}:{m.port}", "--dir", m.home,
                       "--python", sys.executable, env=env).returncode == 0
    ok = lab.machine("ok")
    assert gastown(town.root, "node", "add", "noagent", f"ssh://{ok.user}@{ok.address}:{ok.port}", "--dir", ok.home,
                   "--python", sys.executable, env=env).returncode == 0
    # The rig's polecats run an agent CLI the node does not have.
    settings = town.root / "settings" / "config.json"
    data = json.loads(settings.read_text())
    data.setdefault("agents", {})["ghost"] = {"argv": ["ghost-agent-cli-not-installed"]}
    data.setdefault("role_agents", {})["polecat"] = "ghost"
    settings.write_text(json.dumps(data))
    bead = rig_ledger(town, "calc").create("Anything", actor="overseer").id
    expected = {"stranger": "unknown host key", "locked": "login refused",
                "noagent": "agent CLI 'ghost-agent-cli-not-installed' is not installed"}
    for name, why in expected.items():
        res = gastown(town.root, "sling", bead, "calc", "--node", name, env=env)
        assert res.returncode == 1
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and f"node {name}" in lines[0] and why in lines[0], lines
    assert load_placements(town) == {}
    assert rig_ledger(town, "calc").get(bead).status == "open"  # not hooked, no polecat spawned
    assert not any(rig.polecats_dir.glob("*")) if rig.polecats_dir.exists() else True
    assert not any(ok.home.glob("polecats/*"))


def _node(town, lab, name="n1"):
    from gastown_tui.nodes.registry import add_node

    m = lab.machine(name)
    return m, add_node(town, name, f"ssh://{m.user}@{m.address}:{m.port}", dir=str(m.home), python=sys.executable)


def test_a_node_delivers_only_its_own_polecats_branch(town_with_rig, lab):
    from gastown_tui.errors import UserError
    from gastown_tui.nodes.git import RemoteWorktree, collect_branch, make_worktree

    town, rig = town_with_rig
    m, node = _node(town, lab)
    branch = "polecat/nux/ca-1@abc"
    wt = make_worktree(node, rig.repo, rig.name, rig.target, "nux", branch)
    main_before = git(rig.repo, "rev-parse", "refs/heads/main")
    # On the node: its own work, plus a branch forged for another polecat and a commit on main.
    for ref, fname in ((branch, "mine.txt"), ("polecat/slit/ca-2@abc", "forged.txt"), ("main", "sneaky.txt")):
        git(wt.path, "checkout", "-q", ref) if ref != "polecat/slit/ca-2@abc" else git(wt.path, "checkout", "-q", "-b", ref)
        Path(wt.path, fname).write_text("x\n")
        git(wt.path, "add", fname)
        git(wt.path, "commit", "-q", "-m", fname)
    git(wt.path, "checkout", "-q", branch)
    mine = git(wt.path, "rev-parse", branch)
    assert collect_branch(node, rig.repo, wt) == mine
    assert git(rig.repo, "rev-parse", f"refs/heads/{branch}") == mine
    assert git(rig.repo, "rev-parse", "refs/heads/main") == main_before  # the target never moves from a node
    assert "slit" not in git(rig.repo, "for-each-ref", "--format=%(refname)")
    # A placement naming another polecat's branch is refused before any git runs.
    forged = RemoteWorktree(wt.node, wt.rig, "nux", "polecat/slit/ca-2@abc", wt.root, wt.mirror, wt.path)
    with pytest.raises(UserError, match="is not polecat nux's"):
        collect_branch(node, rig.repo, forged)


async def test_relayed_commands_run_as_the_sessions_agent_whatever_the_node_says(town_with_rig, lab):
    from gastown_tui.nodes.link import NodeLink
    from gastown_tui.nodes.relay import TownRelay

    from gastown_tui.town.polecats import spawn_polecat

    town, rig = town_with_rig
    nux = spawn_polecat(town, "calc", name="nux")
    spawn_polecat(town, "calc", name="slit")
    m, node = _node(town, lab)
    link = NodeLink(node)
    relay = TownRelay(town.root, node)
    link.execs.runner = relay
    await link.open()
    # The program claims another identity in its environment and on the command line's env.
    script = ("GT_AGENT=calc/polecats/slit BD_ACTOR=calc/polecats/slit gt prime --json | "
              "grep -o '\"agent\": *\"[^\"]*\"'; echo END")
    s = RemoteSession(SessionSpec(agent="calc/polecats/nux", preset="shell", cwd=Path("x"), town=town.root,
                                  argv=["sh", "-c", script]), link, relay=True, local_cwd=Path(nux.worktree))
    await s.start()
    try:
        assert await s.wait_exit(60) == 0
    finally:
        await link.close()
    text = s.screen.text()
    assert '"agent": "calc/polecats/nux"' in text.replace('":"', '": "'), text
    assert "slit" not in text
    assert [a for a, _, _ in relay.ran] == ["calc/polecats/nux"]


def test_the_town_server_runs_a_node_placed_polecat_and_the_refinery_lands_it(town_with_rig, lab, tmp_path):
    """The product path: `gastown sling --node`, then the town server's patrols (GUPP starts the hooked
    polecat; the session manager's node provider puts it on the node; the Refinery merges)."""
    import time

    from gastown_tui.town.ledgers import rig_ledger

    town, rig = town_with_rig
    m = lab.machine("n1")
    env = {"GT_TOWN": str(town.root)}
    assert gastown(town.root, "node", "add", "n1", f"ssh://{m.user}@{m.address}:{m.port}", "--dir", m.home,
                   "--python", sys.executable, env=env).returncode == 0
    bead = rig_ledger(town, "calc").create("Add subtract", actor="overseer", description=BEAD_TEXT).id
    res = gastown(town.root, "sling", bead, "calc", "--node", "n1", "--json", env=env)
    assert res.returncode == 0, res.stderr
    slung = json.loads(res.stdout)
    settings = town.root / "settings" / "config.json"  # patrols that wake every few seconds, not minutes
    data = json.loads(settings.read_text())
    data["patrols"] = {"backoff_base": "1s", "backoff_max": "3s", "disabled": ["boot", "dogs"]}
    data.setdefault("timers", {})["refinery_poll"] = "2s"
    settings.write_text(json.dumps(data))
    log = tmp_path / "server.log"
    server_env = {k: v for k, v in os.environ.items() if k not in ("GT_TOWN", "GT_AGENT", "GASTOWN_SOCKET")}
    with open(log, "ab") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "gastown_tui.cli", "server", "--town", str(town.root)],
                                stdout=fh, stderr=subprocess.STDOUT, env=server_env, cwd=str(town.root))
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"server exited {proc.returncode}:\n{log.read_text()[-3000:]}")
            shown = subprocess.run(["git", "show", "main:ops.py"], cwd=rig.repo, capture_output=True, text=True)
            if shown.returncode == 0:
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"the node's work never landed on main:\n{log.read_text()[-3000:]}")
    finally:
        end_process(proc)
    assert "def sub" in shown.stdout
    assert Path(slung["node_worktree"], "ops.py").is_file()  # the work was done on the node
    metas = list((town.root / ".runtime" / "sessions").glob(f"{slung['agent'].replace('/', '--')}/*/meta.json"))
    assert any(json.loads(p.read_text()).get("node") == "n1" for p in metas), metas
