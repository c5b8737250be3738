"""The whole flow through the command line only, with real git repos (issue 4, 'Must show')."""
from __future__ import annotations

import json
import sys

import pytest

from town_testkit import commit_in, ensure_polecat_work, gastown, make_project

pytestmark = pytest.mark.slow


def test_install_rig_convoy_three_slings_three_dones(tmp_path):
    project = make_project(tmp_path / "project")
    root = tmp_path / "town"
    gastown("install", str(root), cwd=tmp_path)
    ensure_polecat_work(root)
    env = {"GT_TOWN": str(root)}
    gastown("rig", "add", "calc", str(project), "--gate", f"{sys.executable} -m pytest -q", cwd=root, env=env)
    rig = json.loads(gastown("rig", "show", "calc", "--json", cwd=root, env=env).stdout)
    assert rig["prefix"] == "ca" and rig["target"] == "main" and "pytest" in rig["gate"]

    rig_dir = root / "calc"
    beads = []
    for title in ("Add subtract", "Add multiply", "Add divide"):
        out = gastown("bd", "create", title, "--json", cwd=rig_dir, env=env).stdout
        beads.append(json.loads(out)["id"])
    assert all(b.startswith("ca-") for b in beads)
    convoy = json.loads(gastown("convoy", "create", "Arithmetic", *beads, "--json", cwd=root, env=env).stdout)["id"]
    assert convoy.startswith("hq-cv-")

    slung = [json.loads(gastown("sling", b, "calc", "--json", cwd=root, env=env).stdout) for b in beads]
    names = [s["agent"] for s in slung]
    assert len(set(names)) == 3 and all(n.startswith("calc/polecats/") for n in names)
    assert all(s["convoy"] == convoy for s in slung), "beads already in a convoy are not wrapped again"
    assert len({s["branch"] for s in slung}) == 3
    for s, bead in zip(slung, beads):
        name = s["agent"].split("/")[-1]
        assert s["branch"].startswith(f"polecat/{name}/{bead}@")
        assert s["worktree"] == str(rig_dir / "polecats" / name / "calc")
        assert s["molecule"] and s["formula"] == "polecat-work"

    # Each polecat reads its hook the way an agent does, commits, and runs `done` in its worktree.
    for i, (s, bead) in enumerate(zip(slung, beads)):
        wt = s["worktree"]
        prime = json.loads(gastown("prime", "--json", cwd=wt, env={**env, "GT_AGENT": s["agent"]}).stdout)
        assert prime["hook"]["id"] == bead and prime["worktree"] == wt
        assert prime["molecule"]["formula"] == "polecat-work" and prime["next_step"]
        commit_in(wt, f"op{i}.py", f"def op{i}(a, b):\n    return a\n", f"{bead}: add op{i}")
        out = gastown("done", cwd=wt, env={**env, "GT_AGENT": s["agent"]}).stdout
        assert "merge request" in out

    mrs = json.loads(gastown("mq", "list", "--json", cwd=root, env=env).stdout)
    assert len(mrs) == 3
    assert {m["source_bead"] for m in mrs} == set(beads)
    assert {m["branch"] for m in mrs} == {s["branch"] for s in slung}
    assert all(m["state"] == "queued" and m["target"] == "main" and m["rig"] == "calc" for m in mrs)
    # The branches are in the rig's bare repo, where the Refinery merges.
    import subprocess
    heads = subprocess.run(["git", "branch", "--list", "polecat/*"], cwd=rig_dir / ".repo.git",
                           capture_output=True, text=True, check=True).stdout
    assert all(s["branch"] in heads for s in slung)

    mail = json.loads(gastown("mail", "inbox", "calc/witness", "--json", cwd=root, env=env).stdout)
    done_mail = [m for m in mail if m["subject"].startswith("POLECAT_DONE")]
    assert len(done_mail) == 3
    assert {m["sender"] for m in done_mail} == set(names)

    status = json.loads(gastown("convoy", "status", convoy, "--json", cwd=root, env=env).stdout)
    assert (status["done"], status["total"], status["status"]) == (0, 3, "open")
    assert {t["assignee"] for t in status["tracked"]} == set(names)

    events = json.loads(gastown("feed", "--json", cwd=root, env=env).stdout)
    seq = [e["type"] for e in events if e["type"] != "mail_read"]
    expected = ["town_installed", "rig_added", "convoy_created"]
    expected += ["spawn", "hook", "sling"] * 3
    expected += ["done", "unhook", "merge_requested", "mail", "mail"] * 3
    assert seq == expected
