"""The simulated agent's instruction language (gastown_tui/sim/script.py)."""
import pytest

from gastown_tui.sim.script import SimScriptError, parse_instructions, select_actions

DESC = """Add a greeting module.

sim: write src/greet.py
    def greet(name):
        return f"hello {name}"

sim: append NOTES.md
```md
- greet added
```
sim: run python -c "import sys"
sim: commit Add greet
sim[retry]: rebase --resolve union
sim[retry]: commit Fix greet after review
Prose after the instructions is ignored.
"""


def test_parses_every_form_with_blocks_and_line_numbers():
    actions = parse_instructions(DESC, "gt-abc")
    assert [(a.kind, a.arg, a.retry) for a in actions] == [
        ("write", "src/greet.py", False),
        ("append", "NOTES.md", False),
        ("run", 'python -c "import sys"', False),
        ("commit", "Add greet", False),
        ("rebase", "--resolve union", True),
        ("commit", "Fix greet after review", True),
    ]
    assert actions[0].body == 'def greet(name):\n    return f"hello {name}"\n'
    assert actions[1].body == "- greet added\n"
    assert actions[0].line == 3 and actions[0].where == "gt-abc:3"


def test_first_attempt_and_retry_select_different_lines():
    actions = parse_instructions(DESC)
    assert [a.kind for a in select_actions(actions, retry=False)] == ["write", "append", "run", "commit"]
    assert [a.kind for a in select_actions(actions, retry=True)] == ["rebase", "commit"]
    plain = parse_instructions("sim: commit x\n")
    assert [a.kind for a in select_actions(plain, retry=True)] == ["commit"]  # no retry lines: run the normal ones


@pytest.mark.parametrize(
    "text, message",
    [
        ("sim: write a.txt\nno block here", "has no content block"),
        ("sim: frobnicate", "unknown instruction 'frobnicate'"),
        ("sim: sleep soon", "needs a number of seconds"),
        ("sim: write ../escape.txt\n    x", "must stay inside the worktree"),
        ("sim: write /etc/passwd\n    x", "must stay inside the worktree"),
        ("sim[later]: commit x", "unknown tag sim[later]"),
        ("sim: rebase --resolve maybe", "unknown conflict strategy 'maybe'"),
        ("text\nsim: append f\n```\nnever closed", "has no closing ```"),
        ("sim: commit", "needs a message"),
    ],
)
def test_bad_instructions_name_source_line_and_cause(text, message):
    with pytest.raises(SimScriptError) as err:
        parse_instructions(text, "gt-x1")
    assert message in str(err.value)
    assert str(err.value).startswith("gt-x1:")


def test_empty_fenced_block_writes_an_empty_file():
    (action,) = parse_instructions("sim: write pkg/__init__.py\n```\n```\n")
    assert action.body == ""
