"""The pane of a role that runs as a patrol inside the town (Deacon, Boot, a Witness, a Refinery).

Such a role has no agent process to show, so its pane shows the patrol at work: its state, when it
wakes next and on what backoff, its last runs (what woke it, what it saw, what it did) and what it
escalated. It renders a `PatrolActivity` (gastown_tui.patrols.activity) and nothing else.
"""
from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

from gastown_tui.patrols.activity import PatrolActivity
from widgets.glyphs import glyph

ROLE_WORDS = {
    "deacon": "keeps agents alive, lands convoys, finds orphaned work",
    "boot": "checks on the Deacon and wakes it when needed",
    "witness": "watches this rig's polecats: nudges the quiet, restarts the dead, escalates the stuck",
    "refinery": "merges the queue one request at a time: rebase, test gate, fast-forward",
}


def _ago(at: float, now: float) -> str:
    secs = max(0, int(now - at))
    return f"{secs}s ago" if secs < 120 else f"{secs // 60}m ago"


def render_activity(activity: PatrolActivity, now: float | None = None, plain: bool = False) -> Text:
    """The pane's text for one patrol (pure: tested without an app)."""
    now = time.time() if now is None else now
    out = Text()
    title = activity.role.capitalize() + (f" of {activity.rig}" if activity.rig else "")
    out.append(f"{glyph('patrol', plain)} {title}", style="bold")
    out.append("  a patrol inside the town: deterministic code, no agent process, no tokens spent\n", style="dim")
    words = ROLE_WORDS.get(activity.role)
    if words:
        out.append(f"  {words}\n", style="dim")
    out.append("\n")
    state = activity.state
    line = f"state {state} · {activity.runs} run{'s' if activity.runs != 1 else ''}"
    if activity.failures:
        line += f" · {activity.failures} failed"
    if activity.next_run_at is not None and state not in ("stopped", "not running"):
        wait = max(0.0, activity.next_run_at - now)
        line += f" · next wake in {wait:.0f}s"
    if activity.interval:
        line += f" (backoff {activity.interval:.0f}s)"
    out.append(line + "\n", style="bold red" if state in ("failed", "not running") else "")
    if activity.escalations:
        out.append("\nEscalated\n", style="bold")
        for text in activity.escalations[:5]:
            out.append(f"  {text}\n")
    out.append("\nLast runs\n", style="bold")
    if not activity.recent:
        out.append("  none yet\n", style="dim")
    for run in activity.recent:
        stamp = time.strftime("%H:%M:%S", time.localtime(run.at))
        out.append(f"  {stamp} ", style="dim")
        out.append(f"woke on {run.reason}: ")
        if run.error:
            out.append(f"FAILED {run.error}\n", style="bold red")
            continue
        if run.did:
            out.append("; ".join(run.did) + "\n", style="bold")
        else:
            out.append("nothing to do", style="dim")
            out.append(f" (saw {run.saw})\n", style="dim")
    return out


class PatrolPane(Static, can_focus=False):
    """Shows one patrol's activity; `show(activity)` redraws it."""

    DEFAULT_CSS = """
    PatrolPane { height: 1fr; padding: 0 1; overflow-y: auto; }
    """

    def __init__(self, activity: PatrolActivity | None = None, *, plain: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.activity = activity
        self.plain = plain

    def on_mount(self) -> None:
        if self.activity is not None:
            self.update(render_activity(self.activity, plain=self.plain))

    def show(self, activity: PatrolActivity) -> None:
        self.activity = activity
        self.update(render_activity(activity, plain=self.plain))
