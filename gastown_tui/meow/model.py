"""The formula model: what a `*.formula.toml` file says, with nothing lost.

A `Formula` keeps the parsed TOML table it came from in `raw`, so keys this
project does not act on yet (convoy `legs`, `presets`, `prompts`, `[squash]`,
aspects, advice...) load without error and stay available. Steps keep their
unknown keys in `Step.extra`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from gastown_tui.meow.ralph import RalphSpec

if TYPE_CHECKING:
    from gastown_tui.meow.ralph import RalphSpec

FORMULA_TYPES = ("workflow", "expansion", "aspect", "convoy")


@dataclass
class Var:
    """A `[vars.NAME]` declaration (or the shorthand `NAME = "default"`)."""

    name: str
    description: str = ""
    required: bool = False
    default: str | None = None
    pattern: str | None = None
    enum: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Step:
    """One `[[steps]]` (or `[[template]]`) entry, text not yet substituted.

    `expand` names an expansion formula whose `[[template]]` replaces this step
    (with `expand_vars` as its variables); `condition` drops the step when false.
    """

    id: str
    title: str = ""
    description: str = ""
    acceptance: str = ""
    needs: list[str] = field(default_factory=list)
    type: str = ""
    priority: int | None = None
    condition: str | None = None
    expand: str | None = None
    expand_vars: dict[str, str] = field(default_factory=dict)
    index: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ralph(self) -> RalphSpec | None:
        """The step's Ralph loop (`ralph = { check = ... }`) as a RalphSpec, or None."""

        return RalphSpec.from_json(self.extra.get("ralph"))


@dataclass
class Expand:
    """One `[[compose.expand]]`: replace step `target` with formula `with_`'s template."""

    target: str
    with_: str
    vars: dict[str, str] = field(default_factory=dict)


@dataclass
class Formula:
    name: str
    path: Path | None
    type: str = "workflow"
    description: str = ""
    version: int | str | None = None
    vars: dict[str, Var] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    template: list[Step] = field(default_factory=list)
    extends: list[str] = field(default_factory=list)
    expands: list[Expand] = field(default_factory=list)
    pour: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return str(self.path) if self.path else f"<formula {self.name}>"

    def summary(self) -> dict[str, Any]:
        """A small JSON-able description (for `formula list --json`)."""
        return {
            "name": self.name,
            "type": self.type,
            "version": self.version,
            "description": self.description.strip().splitlines()[0] if self.description.strip() else "",
            "path": str(self.path) if self.path else None,
        }

    def to_json(self) -> dict[str, Any]:
        """Everything the file says, with the parsed pieces (for `formula show --json`)."""
        data = dict(self.raw)
        data["formula"] = self.name
        data["type"] = self.type
        data["path"] = str(self.path) if self.path else None
        return data
