"""The six real formulas in ../shared/formulas load, validate and cook unchanged."""
from __future__ import annotations

import pytest

from gastown_tui.meow import FormulaError, FormulaLibrary, cook, formula_search_path, load_formula
from shared_data import shared_path

SHARED_NAMES = ["release", "code-review", "mol-witness-patrol", "rule-of-five", "shiny-enterprise", "shiny"]


@pytest.fixture
def library():
    # The shared folder first, so `extends = ["shiny"]` finds the real shiny, not ours.
    return FormulaLibrary([shared_path("formulas")] + formula_search_path())


def test_every_shared_file_is_found_by_its_formula_name(library):
    for name in SHARED_NAMES:
        assert library.path_of(name).parent == shared_path("formulas"), name


@pytest.mark.parametrize("name", SHARED_NAMES)
def test_shared_formula_loads_and_validates(library, name):
    formula = load_formula(name, library)
    assert formula.name == name
    assert formula.path.name.endswith(f"{name}.formula.toml")


def test_shiny_enterprise_expands_implement_into_rule_of_five(library):
    proto = cook("shiny-enterprise", {"feature": "login"}, library)
    ids = [s.id for s in proto.steps]
    assert ids == ["design", "implement.draft", "implement.refine-1", "implement.refine-2",
                   "implement.refine-3", "implement.refine-4", "review", "test", "submit"]
    needs = {s.id: list(s.needs) for s in proto.steps}
    assert needs["design"] == []
    assert needs["implement.draft"] == ["design"]          # takes over implement's needs
    for i in range(1, 5):
        prev = "implement.draft" if i == 1 else f"implement.refine-{i - 1}"
        assert needs[f"implement.refine-{i}"] == [prev]
    assert needs["review"] == ["implement.refine-4"]        # what needed implement needs the last pass
    draft = proto.steps[1]
    # {target.title} / {target.description} are the replaced step's, with {{feature}} filled in.
    assert draft.title == "Draft: Implement login"
    assert "Write the code for login." in draft.description


def test_release_refuses_a_version_failing_its_pattern(library):
    with pytest.raises(FormulaError) as err:
        cook("release", {"version": "1.2"}, library)
    message = str(err.value)
    assert "version" in message and "'1.2'" in message
    assert r"^\d+\.\d+\.\d+$" in message
    assert "beads__release.formula.toml" in message
    proto = cook("release", {"version": "1.2.0"}, library)
    assert proto.steps[-1].type == "human"
    assert proto.steps[-2].title == "Create git tag v1.2.0"


def test_shiny_needs_its_required_var(library):
    with pytest.raises(FormulaError, match="missing required var 'feature'"):
        cook("shiny", {}, library)


def test_witness_patrol_is_nine_linear_steps_with_defaults_filled(library):
    proto = cook("mol-witness-patrol", {"rig": "laser"}, library)
    assert len(proto.steps) == 9
    for prev, step in zip(proto.steps, proto.steps[1:]):
        assert list(step.needs) == [prev.id]
    last = proto.steps[-1].description
    assert "gt-laser-witness" in last            # {{prefix}}-{{rig}}: default prefix, given rig
    assert "{{" not in last.replace("{{.", "")


def test_convoy_keys_are_kept_and_legs_become_parallel_steps(library):
    formula = load_formula("code-review", library)
    assert formula.type == "convoy"
    assert set(formula.raw["presets"]) == {"gate", "full", "security-focused", "refactor"}
    assert "{{.leg.focus}}" in formula.raw["prompts"]["base"]
    proto = cook(formula, {}, library)
    legs = [s for s in proto.steps if s.id != "synthesis"]
    assert len(legs) == 10 and all(not s.needs for s in legs)
    synthesis = proto.steps[-1]
    assert synthesis.id == "synthesis" and set(synthesis.needs) == {s.id for s in legs}
    # Go-template text is not ours to substitute: it stays as written.
    assert "{{.output.directory}}" in synthesis.description
