"""The product path across a killed town server: `gastown sling BEAD RIG --node n1` places a sim polecat on
a real sshd "machine"; the town server's patrols start it there; while it works (a pause in its script)
the server is killed with SIGKILL and started again. The new server re-adopts the polecat (the same pid on
the node), its `gt done` is relayed through the new server exactly once (one merge request), and the
Refinery lands its work on the rig's target."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from gastown_tui.nodes.remote_adoption import records_dir
from kit.git import one_commit_repo
from kit.process import end_process

BEAD_TEXT = """Add subtract, with a pause.

sim: write ops.py
    def sub(a, b):
        return a - b
sim: sleep 15
sim: write test_ops.py
    from ops import sub


    def test_sub():
        assert sub(5, 3) == 2
sim: commit add sub
"""


def gastown(cwd, *args):
    return subprocess.run([sys.executable, "-m", "gastown_tui.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=180, env={**os.environ, "GT_TOWN": str(cwd)})


def start_server(town: Path, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("GT_TOWN", "GT_AGENT", "GASTOWN_SOCKET")}
    with open(log, "ab") as fh:
        return subprocess.Popen([sys.executable, "-m", "gastown_tui.cli", "server", "--town", str(town)],
                                stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=str(town))


def wait_for(cond, what: str, proc: subprocess.Popen, log: Path, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode} waiting for {what}:\n{log.read_text()[-3000:]}")
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()[-3000:]}")


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_remote_polecat_outlives_kill_9_of_its_town_server_and_lands_its_work(tmp_path, lab):
    from gastown_tui.town.install import install_town
    from gastown_tui.town.ledgers import rig_ledger
    from gastown_tui.town.mq import list_mrs
    from gastown_tui.town.rigs import add_rig

    project = one_commit_repo(tmp_path / "project", {
        "calc.py": "def add(a, b):\n    return a + b\n",
        "test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"}, message="calc")
    town = install_town(tmp_path / "town")
    rig = add_rig(town, "calc", str(project), gate=f"{sys.executable} -m pytest -q -p no:cacheprovider")
    m = lab.machine("n1")
    assert gastown(town.root, "node", "add", "n1", f"ssh://{m.user}@{m.address}:{m.port}", "--dir", m.home,
                   "--python", sys.executable).returncode == 0
    bead = rig_ledger(town, "calc").create("Add subtract", actor="overseer", description=BEAD_TEXT).id
    res = gastown(town.root, "sling", bead, "calc", "--node", "n1", "--json")
    assert res.returncode == 0, res.stderr
    slung = json.loads(res.stdout)
    address, node_wt = slung["agent"], Path(slung["node_worktree"])
    settings = town.root / "settings" / "config.json"
    data = json.loads(settings.read_text())
    data["patrols"] = {"backoff_base": "1s", "backoff_max": "3s", "disabled": ["boot", "dogs"]}
    data.setdefault("timers", {})["refinery_poll"] = "2s"
    settings.write_text(json.dumps(data))
    log = tmp_path / "server.log"

    def record() -> dict | None:
        for path in records_dir(town.root).glob("*.json"):
            rec = json.loads(path.read_text())
            if rec["agent"] == address:
                return rec
        return None

    proc = start_server(town.root, log)
    try:
        rec = wait_for(record, "the polecat started on the node", proc, log)
        pid = rec["remote_pid"]
        wait_for(lambda: (node_wt / "ops.py").is_file(), "the polecat's first step on the node", proc, log)
        assert not (node_wt / "test_ops.py").exists(), "the pause is over before the kill: the test proves nothing"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert alive(pid)
        proc = start_server(town.root, log)
        landed = wait_for(lambda: subprocess.run(["git", "show", "main:test_ops.py"], cwd=rig.repo, capture_output=True,
                                                 text=True).returncode == 0, "the work landing on main", proc, log,
                          timeout=240)
        assert landed
    finally:
        end_process(proc)
    mrs = [mr for mr in list_mrs(town, rig="calc", include_closed=True) if mr.polecat == address]
    assert len(mrs) == 1, mrs  # its `gt done`, relayed through the new server, ran once
    events = [json.loads(line) for line in town.events_path.read_text().splitlines()]
    assert len([e for e in events if e["type"] == "done" and e["actor"] == address]) == 1
    metas = [json.loads(p.read_text()) for p in
             (town.root / ".runtime" / "sessions").glob(f"{address.replace('/', '--')}/*/meta.json")]
    assert len(metas) == 1 and metas[0]["node"] == "n1" and metas[0]["remote_pid"] == pid, metas  # one session, adopted
