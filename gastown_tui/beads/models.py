"""Pydantic models of bead records (reference/beads-format.md §1.2).

An `Issue` is a snapshot of one record: the ledger keeps the records themselves
(plain dicts with their original lines) and builds models on demand. Unknown
keys are kept as extra fields, in their original order, and written back.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gastown_tui.beads.codec import canonical
from gastown_tui.beads.errors import LedgerError


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def to_record(self) -> dict:
        """The JSON object this model stands for (unknown keys included)."""
        return self.model_dump(mode="json", exclude_unset=True)


class Dependency(_Record):
    issue_id: str
    depends_on_id: str
    type: str = "blocks"
    created_at: str = ""
    created_by: str | None = None
    metadata: Any = None
    thread_id: str | None = None


class Comment(_Record):
    id: int | str | None = None
    issue_id: str = ""
    author: str = ""
    text: str = ""
    created_at: str = ""


class Issue(_Record):
    id: str
    title: str = ""
    description: str = ""
    design: str = ""
    acceptance_criteria: str = ""
    notes: str = ""
    spec_id: str | None = None
    status: str = "open"
    priority: int = 0                    # a missing priority reads as 0 (beads-format.md §1.2)
    issue_type: str = "task"
    assignee: str | None = None
    owner: str | None = None
    estimated_minutes: int | None = None
    created_at: str = ""
    created_by: str | None = None
    updated_at: str = ""
    started_at: str | None = None
    closed_at: str | None = None
    close_reason: str | None = None
    closed_by_session: str | None = None
    due_at: str | None = None
    defer_until: str | None = None
    external_ref: str | None = None
    source_system: str | None = None
    metadata: Any = None
    compaction_level: int | None = None
    compacted_at: str | None = None
    compacted_at_commit: str | None = None
    original_size: int | None = None
    labels: list[str] = Field(default_factory=list)
    dependencies: list[Dependency] = Field(default_factory=list)
    comments: list[Comment] = Field(default_factory=list)
    deleted_at: str | None = None
    deleted_by: str | None = None
    delete_reason: str | None = None
    original_type: str | None = None
    sender: str | None = None
    ephemeral: bool = False
    no_history: bool | None = None
    wisp_type: str | None = None
    pinned: bool = False
    is_template: bool = False
    bonded_from: list[dict] | None = None
    creator: Any = None
    validations: list[Any] | None = None
    quality_score: float | None = None
    crystallizes: bool | None = None
    await_type: str | None = None
    await_id: str | None = None
    timeout: int | None = None
    waiters: list[str] | None = None
    holder: str | None = None
    source_formula: str | None = None
    source_location: str | None = None
    hook_bead: str | None = None
    role_bead: str | None = None
    agent_state: str | None = None
    last_activity: str | None = None
    role_type: str | None = None
    rig: str | None = None
    mol_type: str | None = None
    work_type: str | None = None
    event_kind: str | None = None
    actor: str | None = None
    target: str | None = None
    payload: str | None = None

    @field_validator("priority", mode="before")
    @classmethod
    def _priority(cls, v: object) -> object:
        return 0 if v is None else v

    @classmethod
    def from_record(cls, record: dict) -> "Issue":
        """A model of a stored record (the legacy `wisp: true` flag reads as ephemeral)."""
        try:
            issue = cls.model_validate(record)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first.get("loc", ()))
            raise LedgerError(f"bead {record.get('id')!r}: field {where!r}: {first.get('msg')} "
                              f"(value {first.get('input')!r})") from None
        if record.get("wisp") is True and not record.get("ephemeral"):
            object.__setattr__(issue, "ephemeral", True)
        return issue

    def to_record(self) -> dict:
        return canonical(self.model_dump(mode="json", exclude_unset=True))

    @property
    def parent_id(self) -> str | None:
        """The parent (`parent-child` edge, else the dotted id prefix)."""
        for dep in self.dependencies:
            if dep.type == "parent-child":
                return dep.depends_on_id
        head, dot, _ = self.id.rpartition(".")
        return head if dot else None

    @property
    def is_closed(self) -> bool:
        return self.status == "closed"
