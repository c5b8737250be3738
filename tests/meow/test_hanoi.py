"""Towers of Hanoi from the formula language alone, proven by replaying the moves."""
from __future__ import annotations

import pytest

from gastown_tui.meow import cook, wisp, progress
from gastown_tui.meow.hanoi import check_hanoi
from gastown_tui.resources import formulas_dir

from .helpers import builtin_library, new_ledger


def moves(discs: int):
    proto = cook("towers-of-hanoi", {"discs": str(discs)}, builtin_library())
    return [(s.id, s.title, list(s.needs)) for s in proto.iter_steps()]


@pytest.mark.parametrize("discs", range(1, 13))
def test_replay_solves_the_puzzle(discs):
    steps = moves(discs)
    assert len(steps) == 2 ** discs - 1
    report = check_hanoi(steps, discs)
    assert report.ok, report.problems
    assert report.moves == 2 ** discs - 1


def test_ten_discs_is_1023_chained_steps():
    steps = moves(10)
    assert len(steps) == 1023
    assert steps[0][2] == []
    for (prev_id, _, _), (_, _, needs) in zip(steps, steps[1:]):
        assert needs == [prev_id]          # each move needs exactly the one before it


def test_the_recursion_is_in_the_formula_files():
    text = (formulas_dir() / "hanoi-tower.formula.toml").read_text()
    assert 'expand = "hanoi-tower"' in text and "{{n - 1}}" in text
    assert 'expand = "hanoi-tower"' in (formulas_dir() / "towers-of-hanoi.formula.toml").read_text()


def test_checker_catches_illegal_and_unfinished_solutions():
    steps = moves(3)
    # Swap two moves: disc 2 would move while disc 1 sits on it.
    bad = [list(s) for s in steps]
    bad[0][1], bad[1][1] = bad[1][1], bad[0][1]
    report = check_hanoi([tuple(s) for s in bad], 3)
    assert not report.ok and "not on top" in report.problems[0]
    # Drop the last move: the chain is fine but the tower is not on peg C.
    report = check_hanoi(steps[:-1], 3)
    assert not report.ok and any("not solved" in p for p in report.problems)
    # Break the chain: a step that needs nothing in the middle.
    broken = steps[:3] + [(steps[3][0], steps[3][1], [])] + steps[4:]
    assert not check_hanoi(broken, 3).ok


def test_disc_count_is_checked_by_pattern():
    from gastown_tui.meow import FormulaError

    with pytest.raises(FormulaError, match="does not match pattern"):
        cook("towers-of-hanoi", {"discs": "0"}, builtin_library())


def test_hanoi_wisp_replayed_from_the_ledger(tmp_path):
    ledger = new_ledger(tmp_path)
    root = wisp(ledger, "towers-of-hanoi", {"discs": "6"}, builtin_library())
    again = type(ledger).open(tmp_path / ".beads")       # a fresh reader: only what is on disk
    p = progress(again, root)
    assert p.total == 63
    steps = []
    for s in p.steps:
        rec = again.raw(s.id)
        needs = [d["depends_on_id"].removeprefix(root + ".") for d in rec["dependencies"] if d["type"] == "blocks"]
        steps.append((s.step, s.title, needs))
    assert check_hanoi(steps, 6).ok
    assert [s.id for s in p.ready] == [p.steps[0].id]
