"""The search path: rig .beads/formulas, then town formulas/, then the built-ins; nearer wins."""
from __future__ import annotations

from gastown_tui.meow import FormulaLibrary, cook, formula_search_path, load_formula
from gastown_tui.resources import formulas_dir

from .helpers import write_formula

SIMPLE = 'formula = "{name}"\ndescription = "{who}"\n[[steps]]\nid = "only"\ntitle = "{who} step"\n'


def test_order_is_rig_town_builtin(tmp_path, monkeypatch):
    monkeypatch.delenv("GT_TOWN", raising=False)
    rig, town = tmp_path / "rig", tmp_path / "town"
    path = formula_search_path(rig, town)
    assert path[0] == rig / ".beads" / "formulas"
    assert path[1] == town / "formulas"
    assert path[-1] == formulas_dir()
    monkeypatch.setenv("GT_TOWN", str(town))
    assert town / "formulas" in formula_search_path()


def test_nearer_file_overrides_farther(tmp_path):
    rig, town = tmp_path / "rig", tmp_path / "town"
    write_formula(town / "formulas", "shiny", SIMPLE.format(name="shiny", who="town"))
    write_formula(town / "formulas", "deploy", SIMPLE.format(name="deploy", who="town"))
    write_formula(rig / ".beads" / "formulas", "deploy", SIMPLE.format(name="deploy", who="rig"))
    library = FormulaLibrary(formula_search_path(rig, town))
    assert load_formula("deploy", library).description == "rig"
    assert load_formula("shiny", library).description == "town"        # town beats built-in
    assert library.index()["deploy"].shadows == [town / "formulas" / "deploy.formula.toml"]
    assert load_formula("polecat-work", library).path.parent == formulas_dir()   # built-in still there
    # shiny-enterprise (built-in) extends the nearest shiny: the town's one-step shiny has no
    # `implement`, so composing on it fails and says so.
    import pytest
    from gastown_tui.meow import FormulaError

    with pytest.raises(FormulaError, match="target 'implement' is not a step"):
        cook("shiny-enterprise", {}, library)


def test_found_by_declared_name_not_file_name(tmp_path):
    write_formula(tmp_path, "team__deploy", SIMPLE.format(name="deploy", who="x"))
    library = FormulaLibrary([tmp_path])
    assert library.names() == ["deploy"]
    assert cook("deploy", {}, library).steps[0].title == "x step"


def test_unknown_formula_suggests_nearest(tmp_path):
    import pytest
    from gastown_tui.errors import NotFound

    with pytest.raises(NotFound, match="unknown formula 'shinny'.*shiny"):
        load_formula("shinny", FormulaLibrary(formula_search_path()))
