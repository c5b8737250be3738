"""One cooked step as a bead record: what a poured molecule stores and a big wisp makes on demand.

`step_record(root_id, step, index, ts)` is shared by `meow.molecule` (pour, wisp) and
`meow.lazywisp` (a step of a root-only wisp, made when something reads it).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gastown_tui.meow.expand import CookedStep

KNOWN_ISSUE_TYPES = ("bug", "feature", "task", "epic", "chore", "decision", "spike", "story", "milestone", "gate")
MAX_TITLE = 500


def title(text: str) -> str:
    text = text.strip() or "(untitled step)"
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1] + "…"


def step_record(root_id: str, step: CookedStep, index: int, ts: str) -> dict:
    """The bead record of one cooked step (the `index`-th in formula order) of molecule `root_id`."""
    prefix = root_id + "."
    sid = prefix + step.id
    deps = [{"issue_id": sid, "depends_on_id": root_id, "type": "parent-child", "created_at": ts}]
    for need in step.needs:
        deps.append({"issue_id": sid, "depends_on_id": prefix + need, "type": "blocks", "created_at": ts})
    step_title = step.title
    rec: dict[str, object] = {"id": sid, "title": step_title if 0 < len(step_title) <= MAX_TITLE else title(step_title)}
    if step.description:
        rec["description"] = step.description
    if step.acceptance:
        rec["acceptance_criteria"] = step.acceptance
    if step.priority is not None:
        rec["priority"] = step.priority
    kind = step.type or "task"
    if kind in KNOWN_ISSUE_TYPES:
        rec["issue_type"] = kind
    else:
        rec["issue_type"] = "task"
        rec["labels"] = [kind]
    if step.extra:
        _extras(rec, step.extra)
    rec["dependencies"] = deps
    rec["source_formula"] = step.formula
    rec["source_location"] = f"steps[{index}]"
    return rec


def _extras(rec: dict, extra: dict) -> None:
    """Step keys Beads has a field for: labels, notes, assignee."""
    labels = extra.get("labels")
    if isinstance(labels, list):
        rec["labels"] = sorted(set(rec.get("labels", [])) | {str(x) for x in labels})
    for key in ("notes", "assignee"):
        if isinstance(extra.get(key), str):
            rec[key] = extra[key]
    if isinstance(extra.get("ralph"), dict):    # a Ralph step: its spec rides on the bead (town/ralph.py)
        rec["metadata"] = {**(rec.get("metadata") or {}), "ralph": dict(extra["ralph"])}
