"""Molecules and wisps in a real ledger: pour, progress, next, close, squash, burn."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

import pytest

from gastown_tui.beads import Ledger
from gastown_tui.beads.fields import parse_fields
from gastown_tui.meow import (
    MoleculeError, burn, checklist, close_step, cook, next_step, pour, progress, squash, wisp,
)

from .helpers import builtin_library, issues_text, new_ledger, wisp_file_ids


@pytest.fixture
def ledger(tmp_path):
    return new_ledger(tmp_path)


def test_poured_shiny_has_the_proto_shape_and_is_attached(ledger):
    work = ledger.create("Add login page", description="Users need to log in.")
    root = pour(ledger, "shiny", on=work.id, vars={"feature": "login"}, search_path=builtin_library())
    assert root.startswith("gt-mol-")
    rec = ledger.raw(root)
    assert rec["issue_type"] == "molecule" and not rec.get("ephemeral")
    kids = [ledger.raw(f"{root}.{s}") for s in ("design", "implement", "review", "test", "submit")]
    for kid in kids:
        edges = {(d["type"], d["depends_on_id"]) for d in kid["dependencies"]}
        assert ("parent-child", root) in edges
    assert ("blocks", f"{root}.design") in {(d["type"], d["depends_on_id"]) for d in kids[1]["dependencies"]}
    assert kids[0]["title"] == "Design login"
    fields = parse_fields(ledger.raw(work.id)["description"])
    assert fields["attached_molecule"] == root and fields["attached_formula"] == "shiny"
    assert ledger.raw(work.id)["description"].startswith("Users need to log in.")
    assert f'"id":"{root}.design"' in issues_text(ledger.beads_dir)


def test_steps_become_ready_one_by_one(ledger):
    work = ledger.create("Feature")
    root = pour(ledger, "shiny", on=work.id, vars={"feature": "x"}, search_path=builtin_library())
    order = ["design", "implement", "review", "test", "submit"]
    for i, name in enumerate(order):
        p = progress(ledger, root)
        assert [s.step for s in p.ready] == [name]
        assert p.done == i and p.total == 5
        assert next_step(ledger, work.id).id == f"{root}.{name}"     # works from the bead worked on, too
        if i + 1 < len(order):      # the step after this one may not be closed yet
            with pytest.raises(MoleculeError, match="waiting for"):
                close_step(ledger, f"{root}.{order[i + 1]}")
        close_step(ledger, f"{root}.{name}")
    p = progress(ledger, root)
    assert p.complete and p.next is None and next_step(ledger, root) is None
    assert ledger.raw(root)["status"] == "closed"        # the root closes with its last step


def test_one_molecule_per_bead_unless_forced(ledger):
    work = ledger.create("Feature")
    lib = builtin_library()
    first = pour(ledger, "shiny", on=work.id, vars={"feature": "x"}, search_path=lib)
    with pytest.raises(MoleculeError, match=f"already has molecule {first}"):
        pour(ledger, "shiny", on=work.id, vars={"feature": "x"}, search_path=lib)
    second = pour(ledger, "shiny", on=work.id, vars={"feature": "x"}, search_path=lib, force=True)
    assert ledger.raw_find(first) is None and ledger.raw_find(f"{first}.design") is None
    assert parse_fields(ledger.raw(work.id)["description"])["attached_molecule"] == second


def test_checklist_shows_state_and_the_next_step(ledger):
    work = ledger.create("Feature")
    root = pour(ledger, "polecat-work", on=work.id, vars={"issue": work.id}, search_path=builtin_library())
    close_step(ledger, f"{root}.load-context")
    text = checklist(ledger, root)
    assert f"molecule {root} (polecat-work), working on {work.id}: 1/5 steps done" in text
    assert "[x] load-context" in text and "[>] implement" in text
    assert "[ ] self-review: Review your own diff  (after implement)" in text
    assert f"When it is done, run: gt mol done {root}.implement" in text


def test_wisps_never_reach_issues_jsonl_and_squash_leaves_a_digest(ledger):
    lib = builtin_library()
    before = issues_text(ledger.beads_dir)
    root = wisp(ledger, "deacon-patrol", {}, lib)
    assert root.startswith("gt-wisp-")
    ids = wisp_file_ids(ledger.beads_dir)
    assert root in ids and len(ids) == 6
    assert issues_text(ledger.beads_dir) == before          # not one byte of the wisp
    with pytest.raises(MoleculeError, match="5 open step"):
        squash(ledger, root)
    for s in progress(ledger, root).steps:
        close_step(ledger, s.id)
    digest = squash(ledger, root, summary="quiet round")
    after = [json.loads(line) for line in issues_text(ledger.beads_dir).splitlines()]
    assert [r["id"] for r in after] == [digest]              # no wisp record, before or after squash
    assert not any(r.get("ephemeral") for r in after)
    rec = after[0]
    assert rec["status"] == "closed" and "quiet round" in rec["description"]
    assert "[x] heartbeat" in rec["description"] and f"squashed_from: {root}" in rec["description"]
    assert wisp_file_ids(ledger.beads_dir) == set()          # the wisp itself is gone


def test_burn_leaves_no_trace_in_either_store(ledger):
    lib = builtin_library()
    work = ledger.create("Feature")
    before_issues = issues_text(ledger.beads_dir)
    w = wisp(ledger, "boot-triage", {}, lib)
    burn(ledger, w)
    assert wisp_file_ids(ledger.beads_dir) == set()
    m = pour(ledger, "release", on=work.id, vars={"version": "1.0.0"}, search_path=lib)
    assert m in issues_text(ledger.beads_dir)
    burn(ledger, m)
    text = issues_text(ledger.beads_dir)
    assert m not in text and w not in text
    assert parse_fields(ledger.raw(work.id)["description"])["attached_molecule"] is None
    fresh = Ledger.open(ledger.beads_dir)
    assert fresh.raw_find(m) is None and fresh.raw_find(w) is None
    assert json.loads(text.splitlines()[0])["title"] == json.loads(before_issues.splitlines()[0])["title"]
    with pytest.raises(Exception, match="unknown bead|nearest|not"):
        burn(ledger, m)


def test_human_steps_are_marked(ledger):
    root = pour(ledger, "release", vars={"version": "2.0.0"}, search_path=builtin_library())
    p = progress(ledger, root)
    assert p.steps[-1].step == "publish" and p.steps[-1].kind == "human"
    assert "human" in ledger.raw(f"{root}.publish").get("labels", [])


KILLER = textwrap.dedent("""
    import os, signal, sys
    from gastown_tui.beads import Ledger
    from gastown_tui.meow import close_step, next_step
    ledger = Ledger.open(sys.argv[1])
    step = next_step(ledger, sys.argv[2])
    close_step(ledger, step.id)
    print(step.id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)     # the agent dies between steps
""")


def test_killing_the_process_between_steps_loses_nothing(ledger, tmp_path):
    work = ledger.create("Feature")
    root = pour(ledger, "shiny", on=work.id, vars={"feature": "x"}, search_path=builtin_library())
    script = tmp_path / "agent.py"
    script.write_text(KILLER)
    done = []
    for _ in range(3):
        proc = subprocess.run([sys.executable, str(script), str(ledger.beads_dir), work.id],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        done.append(proc.stdout.strip())
    assert done == [f"{root}.design", f"{root}.implement", f"{root}.review"]
    p = progress(Ledger.open(ledger.beads_dir), root)
    assert p.done == 3 and p.next.step == "test"


def test_a_formula_failing_part_way_leaves_nothing_behind(ledger, tmp_path):
    from gastown_tui.meow import FormulaError, FormulaLibrary

    from .helpers import write_formula

    folder = tmp_path / "formulas"
    write_formula(folder, "countdown", """
formula = "countdown"
type = "expansion"
[[template]]
id = "{target}.tick"
title = "Tick {{n}}"
[[template]]
id = "{target}.more"
needs = ["{target}.tick"]
condition = "{{n}} > 0"
expand = "countdown"
expand_vars = { n = "{{n - 1}}" }
""")
    write_formula(folder, "launch", """
formula = "launch"
[vars.start]
default = "3"
[[steps]]
id = "go"
expand = "countdown"
expand_vars = { n = "{{start}}" }
""")
    library = FormulaLibrary([folder])
    assert [s.title for s in cook("launch", {}, library).steps] == ["Tick 3", "Tick 2", "Tick 1", "Tick 0"]
    work = ledger.create("Launch")
    before_issues = issues_text(ledger.beads_dir)
    # "three" passes binding (no pattern); "Tick three" streams in after the root, then the
    # condition `{{n}} > 0` cannot compare a word.
    for make in (lambda: wisp(ledger, "launch", {"start": "three"}, library, on=work.id),
                 lambda: pour(ledger, "launch", on=work.id, vars={"start": "three"}, search_path=library)):
        with pytest.raises(FormulaError, match="countdown.formula.toml: step '{target}.more'.*needs numbers"):
            make()
        assert issues_text(ledger.beads_dir) == before_issues
        assert wisp_file_ids(ledger.beads_dir) == set()


def test_pouring_on_a_bead_fills_issue_and_feature(ledger):
    work = ledger.create("Dark mode")
    root = pour(ledger, "shiny", on=work.id, search_path=builtin_library())
    assert ledger.raw(f"{root}.design")["title"] == "Design Dark mode"
    root2 = wisp(ledger, "polecat-work", {}, builtin_library(), on=ledger.create("Fix typo").id)
    assert progress(ledger, root2).steps[0].title.startswith("Load context for gt-")
    explicit = pour(ledger, "shiny", on=ledger.create("X").id, vars={"feature": "the X feature"},
                    search_path=builtin_library())
    assert ledger.raw(f"{explicit}.design")["title"] == "Design the X feature"


def test_a_persistent_molecule_is_followed_without_reading_the_wisp_store(ledger):
    work = ledger.create("Feature")
    root = pour(ledger, "shiny", on=work.id, vars={"feature": "x"}, search_path=builtin_library())
    # A broken (or a million-step) wisp store is no business of a persistent molecule.
    (ledger.beads_dir / "wisps.jsonl").write_text('{"id": "gt-wisp-zzz", this is not json\n', encoding="utf-8")
    fresh = Ledger.open(ledger.beads_dir)
    p = progress(fresh, work.id)
    assert (p.root, p.done, p.total, [s.step for s in p.ready]) == (root, 0, 5, ["design"])
    close_step(fresh, f"{root}.design")
    assert next_step(fresh, root).id == f"{root}.implement"
    assert "[x] design" in checklist(fresh, root)
    # Anything that does need the wisp store still says exactly what is wrong with it.
    with pytest.raises(Exception, match=r"wisps\.jsonl:1: not JSON"):
        progress(fresh, "gt-wisp-zzz")
