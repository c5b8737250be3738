"""`gastown formula ...` and `gastown mol ...` as a user runs them (real subprocesses)."""
from __future__ import annotations

import json

import pytest

from shared_data import shared_path

from .helpers import gastown, gastown_json, wisp_file_ids, write_formula


@pytest.fixture
def rig(tmp_path):
    gastown("bd", "init", "--prefix", "gt", cwd=tmp_path)
    return tmp_path


def test_formula_list_show_validate(rig):
    rows = gastown_json("formula", "list", cwd=rig)
    names = {r["name"]: r for r in rows}
    for name in ("polecat-work", "witness-patrol", "refinery-patrol", "deacon-patrol", "boot-triage",
                 "shiny", "rule-of-five", "shiny-enterprise", "release", "towers-of-hanoi"):
        assert names[name]["source"] == "built-in"
    write_formula(rig / ".beads" / "formulas", "shiny", 'formula = "shiny"\n[[steps]]\nid = "just-do-it"\n')
    rows = {r["name"]: r for r in gastown_json("formula", "list", cwd=rig)}
    assert rows["shiny"]["source"] == "rig" and len(rows["shiny"]["overrides"]) == 1
    # The rig's shiny is what the built-in shiny-enterprise now extends; it has no `implement`.
    proc = gastown("formula", "show", "shiny-enterprise", cwd=rig, check=False)
    assert proc.returncode == 1
    assert "shiny-enterprise.formula.toml: compose.expand target 'implement' is not a step" in proc.stderr
    shown = gastown_json("formula", "show", "shiny", cwd=rig)
    assert [s["id"] for s in shown["resolved_steps"]] == ["just-do-it"]
    out = gastown("formula", "show", "polecat-work", cwd=rig).stdout
    assert "load-context" in out and "issue (required)" in out


def test_formula_validate_reports_file_and_step(rig):
    bad = write_formula(rig, "bad", 'formula = "bad"\n[[steps]]\nid = "a"\nneeds = ["nope"]\n')
    proc = gastown("formula", "validate", str(bad), cwd=rig, check=False)
    assert proc.returncode == 1
    assert f"{bad}: step 'a': needs unknown step 'nope'" in proc.stderr
    proc = gastown("formula", "validate", str(bad), "--json", cwd=rig, check=False)
    assert proc.returncode == 1 and json.loads(proc.stdout)["ok"] is False
    for path in sorted(shared_path("formulas").glob("*.formula.toml")):
        assert gastown_json("formula", "validate", str(path), cwd=rig)["ok"] is True


def test_cook_prints_the_proto(rig):
    proto = gastown_json("mol", "cook", "shiny-enterprise", "--var", "feature=search", cwd=rig)
    assert len(proto["steps"]) == 9 and proto["steps"][1]["id"] == "implement.draft"
    proc = gastown("mol", "cook", "release", "--var", "version=1.2", cwd=rig, check=False)
    assert proc.returncode == 1 and r"pattern ^\d+\.\d+\.\d+$" in proc.stderr
    proc = gastown("mol", "cook", "shiny", "--var", "feature", cwd=rig, check=False)
    assert proc.returncode == 1 and "expected NAME=VALUE" in proc.stderr
    persisted = gastown_json("mol", "cook", "shiny", "--var", "feature=x", "--persist", cwd=rig)
    assert persisted["is_template"] is True and "template" in persisted["labels"]
    proto_id = persisted["id"]
    records = {r["id"]: r for r in map(json.loads, (rig / ".beads" / "issues.jsonl").read_text().splitlines())}
    review = records[f"{proto_id}.review"]
    assert review["is_template"] is True and review["title"] == "Review the change"
    assert {(d["type"], d["depends_on_id"]) for d in review["dependencies"]} == {
        ("parent-child", proto_id), ("blocks", f"{proto_id}.implement")}
    proc = gastown("mol", "cook", "shiny", "--var", "feature=x", "--persist", cwd=rig, check=False)
    assert proc.returncode == 1 and "already in the ledger" in proc.stderr
    ready = gastown_json("bd", "ready", cwd=rig)
    assert ready == []                                      # templates are never ready work


@pytest.mark.slow
def test_pour_walk_and_finish_a_molecule(rig):
    bead = gastown("bd", "create", "Add search", cwd=rig).stdout.strip()
    root = gastown("mol", "pour", "shiny", "--on", bead, "--var", "feature=search", cwd=rig).stdout.strip()
    assert root.startswith("gt-mol-")
    shown = gastown_json("mol", "show", root, cwd=rig)
    assert shown["total"] == 5 and shown["next_step"] == f"{root}.design"
    assert gastown_json("mol", "next", bead, cwd=rig)["id"] == f"{root}.design"
    proc = gastown("mol", "done", f"{root}.test", cwd=rig, check=False)
    assert proc.returncode == 1 and "waiting for" in proc.stderr
    for step in ("design", "implement", "review", "test", "submit"):
        assert gastown("mol", "next", root, cwd=rig).stdout.startswith(f"{root}.{step}")
        out = gastown_json("mol", "done", f"{root}.{step}", cwd=rig)
        assert out["closed"]["status"] == "closed"
    prog = gastown_json("mol", "progress", root, cwd=rig)
    assert prog["complete"] is True and prog["done"] == 5
    assert gastown("mol", "next", root, cwd=rig).stdout.strip() == "all steps are done"
    digest = gastown_json("mol", "squash", root, "--summary", "shipped", cwd=rig)
    assert digest["status"] == "closed" and "shipped" in digest["description"]
    proc = gastown("mol", "show", root, cwd=rig, check=False)
    assert proc.returncode == 1 and root in proc.stderr


def test_wisp_json_and_burn(rig):
    before = (rig / ".beads" / "issues.jsonl").read_text()
    record = gastown_json("mol", "wisp", "witness-patrol", "--var", "rig=alpha", cwd=rig)
    root = record["id"]
    assert record["ephemeral"] is True and record["issue_type"] == "molecule"
    assert len(wisp_file_ids(rig / ".beads")) == 6
    assert (rig / ".beads" / "issues.jsonl").read_text() == before
    assert gastown_json("mol", "burn", root, cwd=rig) == {"burned": root}
    assert wisp_file_ids(rig / ".beads") == set()
    assert (rig / ".beads" / "issues.jsonl").read_text() == before


def test_missing_required_var_and_unknown_ids(rig):
    proc = gastown("mol", "wisp", "witness-patrol", cwd=rig, check=False)
    assert proc.returncode == 1 and "missing required var 'rig'" in proc.stderr
    proc = gastown("mol", "pour", "shiny", "--on", "gt-nope", "--var", "feature=x", cwd=rig, check=False)
    assert proc.returncode == 1 and "gt-nope" in proc.stderr
    proc = gastown("mol", "pour", "shiny", cwd=rig, check=False)
    assert proc.returncode == 2                              # --on is required: a usage error


def test_an_agent_elsewhere_finds_the_ledger_through_beads_dir(rig, tmp_path_factory):
    import os

    bead = gastown("bd", "create", "Fix bug", cwd=rig).stdout.strip()
    root = gastown("mol", "pour", "polecat-work", "--on", bead, "--var", f"issue={bead}", cwd=rig).stdout.strip()
    worktree = tmp_path_factory.mktemp("worktree")            # no .beads above it
    env = {k: v for k, v in os.environ.items() if k != "GT_TOWN"}
    env.update(BEADS_DIR=str(rig / ".beads"), BD_ACTOR="alpha/polecats/nux")
    out = json.loads(gastown("mol", "done", f"{root}.load-context", "--json", cwd=worktree, env=env).stdout)
    assert out["next_step"] == f"{root}.implement"
    closed = gastown_json("bd", "show", f"{root}.load-context", cwd=rig)
    closed = closed[0] if isinstance(closed, list) else closed
    assert closed["status"] == "closed"
