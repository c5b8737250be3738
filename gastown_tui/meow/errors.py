"""Errors raised by the formula layer. Each names the file (and step, when there is one)."""
from __future__ import annotations

from pathlib import Path

from gastown_tui.errors import UserError


class FormulaError(UserError):
    """A formula that cannot be loaded, validated or cooked.

    `problems` lists every problem found (one line each); the message is all of them,
    each prefixed with the file and, when known, the step.
    """

    def __init__(self, problems: list[str] | str):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def where(path: Path | str | None, step: str | None = None, kind: str = "step") -> str:
    """The 'file: step X:' prefix of an error line."""
    parts = [str(path) if path else "<formula>"]
    if step is not None:
        parts.append(f"{kind} {step!r}")
    return ": ".join(parts)


class MoleculeError(UserError):
    """A molecule operation that cannot be done (unknown root, unfinished squash, ...)."""
