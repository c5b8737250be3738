"""Bad formulas are refused with errors that name the file and the step."""
from __future__ import annotations

import pytest

from gastown_tui.meow import FormulaError, FormulaLibrary, cook, load_formula

from .helpers import write_formula


def lib(tmp_path) -> FormulaLibrary:
    return FormulaLibrary([tmp_path])


def refused(tmp_path, name, *texts) -> str:
    with pytest.raises(FormulaError) as err:
        load_formula(name, lib(tmp_path))
    return str(err.value)


WORKFLOW = 'formula = "{name}"\ntype = "workflow"\n'


def test_unknown_needs_names_file_step_and_nearest(tmp_path):
    path = write_formula(tmp_path, "w", WORKFLOW.format(name="w") + """
[[steps]]
id = "build"
[[steps]]
id = "ship"
needs = ["buld"]
""")
    msg = refused(tmp_path, "w")
    assert str(path) in msg and "step 'ship'" in msg and "unknown step 'buld'" in msg and "build" in msg


def test_cycle_is_shown(tmp_path):
    write_formula(tmp_path, "w", WORKFLOW.format(name="w") + """
[[steps]]
id = "a"
needs = ["c"]
[[steps]]
id = "b"
needs = ["a"]
[[steps]]
id = "c"
needs = ["b"]
""")
    msg = refused(tmp_path, "w")
    assert "cycle" in msg
    assert "a -> c -> b -> a" in msg or "c -> b -> a -> c" in msg or "b -> a -> c -> b" in msg


def test_duplicate_step_id(tmp_path):
    path = write_formula(tmp_path, "w", WORKFLOW.format(name="w") + """
[[steps]]
id = "a"
[[steps]]
id = "a"
""")
    msg = refused(tmp_path, "w")
    assert f"{path}: step 'a': duplicate step id" in msg


def test_unknown_extends_and_compose_formula(tmp_path):
    write_formula(tmp_path, "base", WORKFLOW.format(name="base") + '[[steps]]\nid = "implement"\n')
    path = write_formula(tmp_path, "child", """
formula = "child"
extends = ["bsae"]
[[compose.expand]]
target = "implement"
with = "rule-of-nine"
""")
    msg = refused(tmp_path, "child")
    assert f"{path}: extends unknown formula 'bsae'" in msg and "base" in msg
    path.write_text('formula = "child"\nextends = ["base"]\n[[compose.expand]]\ntarget = "implement"\nwith = "rule-of-nine"\n')
    msg = refused(tmp_path, "child")
    assert "step 'implement'" in msg and "unknown formula 'rule-of-nine'" in msg
    path.write_text('formula = "child"\nextends = ["base"]\n[[compose.expand]]\ntarget = "implemnt"\nwith = "base"\n')
    msg = refused(tmp_path, "child")
    assert "compose.expand target 'implemnt' is not a step" in msg


def test_missing_required_var_and_pattern(tmp_path):
    path = write_formula(tmp_path, "w", WORKFLOW.format(name="w") + """
[vars.ticket]
description = "Ticket number"
required = true
pattern = "^T-[0-9]+$"
[[steps]]
id = "a"
title = "Work {{ticket}}"
""")
    library = lib(tmp_path)
    with pytest.raises(FormulaError) as err:
        cook("w", {}, library)
    assert f"{path}: missing required var 'ticket' (Ticket number)" in str(err.value)
    with pytest.raises(FormulaError) as err:
        cook("w", {"ticket": "42"}, library)
    assert "'42' does not match pattern ^T-[0-9]+$" in str(err.value)
    assert cook("w", {"ticket": "T-42"}, library).steps[0].title == "Work T-42"


def test_bad_toml_names_the_file_and_line(tmp_path):
    path = write_formula(tmp_path, "w", 'formula = "w"\n[[steps]]\nid = "a\n')
    with pytest.raises(FormulaError) as err:
        load_formula(path, lib(tmp_path))
    assert str(path) in str(err.value) and "invalid TOML" in str(err.value) and "line 3" in str(err.value)


def test_wrong_shapes_are_named(tmp_path):
    path = write_formula(tmp_path, "w", WORKFLOW.format(name="w") + """
[[steps]]
id = "a"
needs = "b, c"
priority = 9
[[steps]]
title = "no id"
""")
    msg = refused(tmp_path, "w")
    assert "step 'a': priority must be an integer 0-4" in msg
    assert "steps[1]: missing id" in msg
    assert str(path) in msg


def test_recursion_without_a_stop_is_refused_not_run_forever(tmp_path):
    write_formula(tmp_path, "loop", """
formula = "loop"
type = "expansion"
[[template]]
id = "{target}.again"
expand = "loop"
""")
    write_formula(tmp_path, "w", WORKFLOW.format(name="w") + '[[steps]]\nid = "go"\nexpand = "loop"\n')
    with pytest.raises(FormulaError, match="nested deeper than"):
        cook("w", {}, lib(tmp_path)).steps


def test_expand_with_a_workflow_is_refused(tmp_path):
    write_formula(tmp_path, "plain", WORKFLOW.format(name="plain") + '[[steps]]\nid = "x"\n')
    write_formula(tmp_path, "w", WORKFLOW.format(name="w") + '[[steps]]\nid = "go"\nexpand = "plain"\n')
    msg = refused(tmp_path, "w")
    assert "step 'go'" in msg and "has no [[template]]" in msg


def test_unknown_keys_load_and_are_kept(tmp_path):
    write_formula(tmp_path, "w", WORKFLOW.format(name="w") + """
agent = "claude"
[squash]
trigger = "on_complete"
[[steps]]
id = "a"
parallel = true
interactive = false
""")
    formula = load_formula("w", lib(tmp_path))
    assert formula.raw["squash"] == {"trigger": "on_complete"} and formula.raw["agent"] == "claude"
    assert formula.steps[0].extra == {"parallel": True, "interactive": False}


def test_every_problem_is_reported_at_once(tmp_path):
    write_formula(tmp_path, "w", WORKFLOW.format(name="w") + """
[[steps]]
id = "a"
needs = ["x"]
[[steps]]
id = "b"
needs = ["y"]
""")
    with pytest.raises(FormulaError) as err:
        load_formula("w", lib(tmp_path))
    assert len(err.value.problems) == 2


def test_shorthand_defaults_and_enums(tmp_path):
    path = write_formula(tmp_path, "w", WORKFLOW.format(name="w") + """
[vars]
mode = "fast"
[vars.size]
enum = ["s", "m", "l"]
default = "m"
[[steps]]
id = "a"
title = "{{mode}} {{size}}"
""")
    library = lib(tmp_path)
    assert cook("w", {}, library).steps[0].title == "fast m"
    with pytest.raises(FormulaError) as err:
        cook("w", {"size": "xl"}, library)
    assert f"{path}: var 'size' = 'xl' is not one of s, m, l" in str(err.value)
