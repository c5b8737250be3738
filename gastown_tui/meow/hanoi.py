"""Replays a Towers of Hanoi molecule (or proto) and proves it solves the puzzle.

The checker knows nothing about how the steps were made. It takes the steps
(id, title, needs), checks that they form one chain (each step needs exactly
the one before it), reads each title as "Move disc D from peg X to peg Y",
plays the moves on three pegs and checks that every move takes the top disc
of its peg and puts it on an empty peg or a larger disc, and that all discs
end on peg C.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

MOVE_RE = re.compile(r"^Move disc (\d+) from peg ([ABC]) to peg ([ABC])$")


@dataclass
class HanoiReport:
    discs: int
    moves: int = 0
    solved: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.solved and not self.problems


def check_hanoi(steps: Iterable[tuple[str, str, list[str]]], discs: int, start: str = "A",
                goal: str = "C", max_problems: int = 10) -> HanoiReport:
    """`steps` as (id, title, needs) in any order; returns what the replay found."""
    report = HanoiReport(discs=discs)
    by_id: dict[str, tuple[str, list[str]]] = {}
    after: dict[str, str] = {}
    first: list[str] = []
    for step_id, title, needs in steps:
        by_id[step_id] = (title, list(needs))
    for step_id, (_, needs) in by_id.items():
        if not needs:
            first.append(step_id)
        elif len(needs) != 1:
            report.problems.append(f"step {step_id!r} needs {len(needs)} steps, not just the one before it")
        elif needs[0] not in by_id:
            report.problems.append(f"step {step_id!r} needs unknown step {needs[0]!r}")
        elif needs[0] in after:
            report.problems.append(f"steps {after[needs[0]]!r} and {step_id!r} both follow {needs[0]!r}")
        else:
            after[needs[0]] = step_id
    if len(first) != 1:
        report.problems.append(f"{len(first)} steps need nothing; a chain has exactly one first step")
    if report.problems:
        return report

    pegs: dict[str, list[int]] = {"A": [], "B": [], "C": []}
    pegs[start] = list(range(discs, 0, -1))
    current: str | None = first[0]
    while current is not None:
        title = by_id[current][0]
        report.moves += 1
        match = MOVE_RE.match(title)
        if not match:
            report.problems.append(f"move {report.moves} ({current}): title {title!r} is not a move")
        else:
            disc, src, dst = int(match.group(1)), match.group(2), match.group(3)
            if not pegs[src] or pegs[src][-1] != disc:
                top = pegs[src][-1] if pegs[src] else "nothing"
                report.problems.append(
                    f"move {report.moves} ({current}): disc {disc} is not on top of peg {src} (top: {top})"
                )
            elif pegs[dst] and pegs[dst][-1] < disc:
                report.problems.append(
                    f"move {report.moves} ({current}): disc {disc} onto smaller disc {pegs[dst][-1]} on peg {dst}"
                )
            else:
                pegs[dst].append(pegs[src].pop())
        if len(report.problems) >= max_problems:
            return report
        current = after.get(current)
    if report.moves != len(by_id):
        report.problems.append(f"the chain reaches {report.moves} of {len(by_id)} steps")
    report.solved = pegs[goal] == list(range(discs, 0, -1))
    if not report.solved:
        report.problems.append(f"not solved: pegs end as {pegs}")
    return report
