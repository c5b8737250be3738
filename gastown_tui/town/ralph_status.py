"""What a Ralph step's bead says: its spec, its attempts, "attempt k of N" and the last failure."""
from __future__ import annotations

from typing import TYPE_CHECKING

from gastown_tui.meow.ralph import RalphSpec

if TYPE_CHECKING:
    from gastown_tui.meow.tracking import Progress


def ralph_data(rec: dict) -> dict | None:
    meta = rec.get("metadata")
    data = meta.get("ralph") if isinstance(meta, dict) else None
    return data if isinstance(data, dict) else None


def spec_of(rec: dict) -> RalphSpec | None:
    return RalphSpec.from_json(ralph_data(rec))


def attempts_of(rec: dict) -> list[dict]:
    data = ralph_data(rec) or {}
    return [a for a in data.get("attempts") or () if isinstance(a, dict)]


def failures_of(rec: dict) -> list[dict]:
    return [a for a in attempts_of(rec) if not a.get("passed")]


def status_line(rec: dict) -> dict | None:
    """What the hook panel and `gt prime` show for a Ralph step: attempt k of N and the last failure."""
    spec = spec_of(rec)
    if spec is None:
        return None
    fails = failures_of(rec)
    data = ralph_data(rec) or {}
    exhausted = len(fails) >= spec.max_attempts
    return {
        "step": rec["id"], "check": spec.check, "max_attempts": spec.max_attempts,
        "attempt": min(len(fails) + 1, spec.max_attempts) if exhausted else len(fails) + 1,
        "failures": len(fails), "exhausted": exhausted, "escalation": data.get("escalation"),
        "last_failure": fails[-1] if fails else None,
        "text": describe(rec),
    }


def describe(rec: dict) -> str:
    spec = spec_of(rec)
    if spec is None:
        return ""
    fails = failures_of(rec)
    if len(fails) >= spec.max_attempts:
        head = f"Ralph: all {spec.max_attempts} attempts failed; escalated to the Overseer"
    else:
        head = f"Ralph: attempt {len(fails) + 1} of {spec.max_attempts} (check: {spec.check})"
    if fails:
        last = fails[-1]
        head += f"\nLast check failed (attempt {last.get('n')}, {exit_text(last)}):\n" + (last.get("tail") or "")
    return head.rstrip()


def exit_text(attempt: dict) -> str:
    if attempt.get("timed_out"):
        return "timed out"
    return f"exit {attempt.get('exit')}"


def hook_line(progress: Progress) -> str:
    """The hook panel's line for a molecule (a meow Progress): the next Ralph step's attempt k of N and its
    last check failure, or "" when the next step is not a Ralph step."""
    nxt = getattr(progress, "next", None)
    window = getattr(progress, "window", None)    # a big lazy wisp: never walk its million steps
    steps = window() if window is not None else getattr(progress, "steps", ())
    open_ralph = [s for s in steps if getattr(s, "ralph", None) and not s.done]
    step = nxt if nxt is not None and getattr(nxt, "ralph", None) else (open_ralph[0] if open_ralph else None)
    if step is None:
        return ""
    text = describe({"id": step.id, "metadata": {"ralph": step.ralph}})
    lines = text.splitlines()
    return "\n".join(lines[:2] + lines[2:][-2:])     # the head, and the last lines of the failure
