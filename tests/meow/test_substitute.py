"""{{var}} substitution, {target} placeholders and step conditions."""
from __future__ import annotations

import pytest

from gastown_tui.meow.substitute import Condition, SubstitutionError, Text, condition_holds, render, render_target


@pytest.mark.parametrize("text,expected", [
    ("Design {{feature}}", "Design login"),
    ("{{ feature }} and {{feature}}", "login and login"),
    ("{{n - 1}} / {{n + 2}} / {{n * 2}}", "4 / 7 / 10"),
    ("{{unknown}} stays", "{{unknown}} stays"),
    ("{{.leg.focus}} {{if .pr_number -}}x{{end}}", "{{.leg.focus}} {{if .pr_number -}}x{{end}}"),
])
def test_render_and_compiled_text_agree(text, expected):
    values = {"feature": "login", "n": "5"}
    assert render(text, values) == expected
    assert Text(text)(values) == expected


def test_arithmetic_on_a_non_number_says_so():
    with pytest.raises(SubstitutionError, match="needs an integer, but n = 'five'"):
        render("{{n - 1}}", {"n": "five"})
    with pytest.raises(SubstitutionError, match="needs an integer"):
        Text("{{n - 1}}")({"n": "five"})


def test_target_placeholders():
    text = "{target}.draft: {target.title} / {target.description} / {{v}}"
    assert render_target(text, "impl", "Implement x", "Write x.") == \
        "impl.draft: Implement x / Write x. / {{v}}"
    assert Text(text)({"v": "1"}, ("impl", "Implement x", "Write x.")) == "impl.draft: Implement x / Write x. / 1"
    assert render_target("{{target}}", "impl", "", "") == "{{target}}"   # a var called target is not a placeholder


@pytest.mark.parametrize("cond,values,expected", [
    ("{{n}} > 1", {"n": "2"}, True),
    ("{{n}} > 1", {"n": "1"}, False),
    ("{{n}} >= 10", {"n": "9"}, False),
    ("{{n - 1}} == 0", {"n": "1"}, True),
    ("{{mode}} == fast", {"mode": "fast"}, True),
    ("{{mode}} != 'fast'", {"mode": "slow"}, True),
    ("{{flag}}", {"flag": "true"}, True),
    ("{{flag}}", {"flag": "false"}, False),
    ("!{{flag}}", {"flag": ""}, True),
])
def test_conditions(cond, values, expected):
    assert condition_holds(cond, values) is expected
    assert Condition(cond)(values) is expected


def test_condition_on_a_missing_var_is_an_error():
    with pytest.raises(SubstitutionError, match="no value"):
        Condition("{{nope}} > 1")({})
    with pytest.raises(SubstitutionError, match="needs numbers"):
        condition_holds("{{a}} > 1", {"a": "abc"})
