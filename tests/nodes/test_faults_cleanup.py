"""A reaped remote polecat's clone on its node (docs/nodes.md, "Cleanup"; nodes/cleanup.py), on a real sshd
"machine": `sling --node` makes the polecat and its clone on the node; its work is closed and the polecat
reaped in the town (`reap_polecat`, as the Witness does). While the clone's branch holds a commit the town
has not fetched, the sweep keeps the clone (one `node_clone_kept` event naming the commit); once the town
holds that commit, the sweep removes the clone and forgets the placement."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gastown_tui.nodes.cleanup import sweep
from gastown_tui.nodes.git import collect_branch
from gastown_tui.nodes.placement import load_placements, placement_of
from gastown_tui.nodes.registry import get_node
from gastown_tui.town.agents import set_agent_state
from gastown_tui.town.hooks import unhook_bead
from gastown_tui.town.polecats import reap_polecat
from kit.git import one_commit_repo


def gastown(town, *args):
    return subprocess.run([sys.executable, "-m", "gastown_tui.cli", *map(str, args)], cwd=town, capture_output=True,
                          text=True, timeout=180, env={**os.environ, "GT_TOWN": str(town)})


def git(cwd, *args) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def test_a_reaped_remote_polecats_clone_is_removed_but_never_with_unfetched_commits(tmp_path, lab):
    from gastown_tui.town.install import install_town
    from gastown_tui.town.ledgers import rig_ledger
    from gastown_tui.town.rigs import add_rig

    project = one_commit_repo(tmp_path / "project", {"calc.py": "x = 1\n"}, message="calc")
    town = install_town(tmp_path / "town")
    rig = add_rig(town, "calc", str(project))
    m = lab.machine("n1")
    assert gastown(town.root, "node", "add", "n1", f"ssh://{m.user}@{m.address}:{m.port}", "--dir", m.home,
                   "--python", sys.executable).returncode == 0
    bead = rig_ledger(town, "calc").create("Work", actor="overseer").id
    res = gastown(town.root, "sling", bead, "calc", "--node", "n1", "--json")
    assert res.returncode == 0, res.stderr
    address = json.loads(res.stdout)["agent"]
    _, wt = placement_of(town, address)
    clone = Path(wt.path)
    assert clone.is_dir()
    assert sweep(town) == []  # a live polecat's clone is never touched

    # The node's clone gets a commit the town never fetched; the polecat is then finished and reaped in the town.
    (clone / "late.py").write_text("y = 2\n")
    git(clone, "add", "late.py")
    git(clone, "-c", "user.name=sim", "-c", "user.email=sim@example.com", "commit", "-q", "-m", "late work")
    late = git(clone, "rev-parse", "HEAD")
    unhook_bead(town, bead, actor="overseer", status="closed", reason="done elsewhere")
    set_agent_state(town, address, "done", hook=None)
    reap_polecat(town, "calc", address.rsplit("/", 1)[1])

    [kept] = sweep(town)
    assert kept.outcome == "kept" and late in kept.detail and clone.is_dir(), kept
    assert address in load_placements(town)
    said = set()
    sweep(town, said)
    sweep(town, said)
    events = [json.loads(line) for line in town.events_path.read_text().splitlines()]
    assert [e["payload"]["commit"] for e in events if e["type"] == "node_clone_kept"] == [late, late]  # (the first sweep had no memory)
    assert len(said) == 1

    collect_branch(get_node(town, "n1"), rig.repo, wt)  # the town now holds the commit
    [removed] = sweep(town)
    assert removed.outcome == "removed", removed
    assert not clone.exists() and address not in load_placements(town)
    assert not Path(f"{clone}.removing").exists()  # moved aside whole, then removed
    events = [json.loads(line) for line in town.events_path.read_text().splitlines()]
    gone = [e["payload"] for e in events if e["type"] == "node_clone_removed"]
    assert gone and gone[-1]["commit"] == late and gone[-1]["path"] == wt.path
    assert sweep(town) == []  # nothing left to clean
