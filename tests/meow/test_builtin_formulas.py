"""The built-in formulas shipped in formulas/: all valid, cookable, and our own text."""
from __future__ import annotations

import tomllib

import pytest

from shared_data import shared_path
from gastown_tui.meow import cook, load_formula
from gastown_tui.resources import formulas_dir

from .helpers import builtin_library

BUILTIN = ["polecat-work", "witness-patrol", "refinery-patrol", "deacon-patrol", "boot-triage",
           "shiny", "rule-of-five", "shiny-enterprise", "release", "towers-of-hanoi", "hanoi-tower"]
VARS = {"polecat-work": {"issue": "gt-abc"}, "witness-patrol": {"rig": "alpha"},
        "refinery-patrol": {"rig": "alpha"}, "shiny": {"feature": "f"}, "shiny-enterprise": {"feature": "f"},
        "release": {"version": "1.0.0"}}


def test_every_builtin_is_there_and_valid():
    library = builtin_library()
    for name in BUILTIN:
        formula = load_formula(name, library)
        assert formula.path.parent == formulas_dir()
    assert sorted(p.name.split(".")[0] for p in formulas_dir().glob("*.formula.toml")) == sorted(BUILTIN)


@pytest.mark.parametrize("name", [n for n in BUILTIN if n not in ("rule-of-five", "hanoi-tower")])
def test_every_workflow_cooks_with_no_placeholder_left(name):
    proto = cook(name, VARS.get(name, {}), builtin_library())
    assert proto.steps
    for step in proto.steps:
        assert "{{" not in step.title + step.description + step.acceptance, step.id
        assert "{target" not in step.id + step.title + step.description, step.id


def test_polecat_work_is_a_short_chain_ending_in_gt_done():
    proto = cook("polecat-work", {"issue": "gt-abc"}, builtin_library())
    ids = [s.id for s in proto.steps]
    assert 3 <= len(ids) <= 5
    assert ids[0] == "load-context" and ids[-1] == "submit"
    assert "gt done" in proto.steps[-1].description
    assert "gt-abc" in proto.steps[0].title
    for prev, step in zip(proto.steps, proto.steps[1:]):
        assert list(step.needs) == [prev.id]


def test_builtin_text_is_not_copied_from_gas_town():
    """Same step ids as the originals where it matters, but every sentence is ours."""
    theirs = set()
    for path in shared_path("formulas").glob("*.formula.toml"):
        data = tomllib.loads(path.read_text())
        theirs.add(data.get("description", "").strip())
        for step in data.get("steps", []) + data.get("template", []):
            theirs.update(str(step.get(k, "")).strip() for k in ("description", "acceptance"))
    theirs.discard("")
    for path in formulas_dir().glob("*.formula.toml"):
        data = tomllib.loads(path.read_text())
        ours = [data.get("description", "").strip()]
        for step in data.get("steps", []) + data.get("template", []):
            ours += [str(step.get(k, "")).strip() for k in ("description", "acceptance")]
        assert not (set(ours) - {""}) & theirs, path.name
