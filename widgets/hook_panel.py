"""The focused agent's hook: the bead it must work on and its molecule checklist."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from widgets.view_models import HookView

STEP_MARK = {"closed": "[x]", "in_progress": "[>]", "hooked": "[>]"}


def progress_bar(done: int, total: int, width: int = 24) -> str:
    filled = width * done // total if total else width
    return "█" * filled + "░" * (width - filled)


def hook_text(hook: HookView | None, agent: str | None) -> Text:
    text = Text()
    if agent is None:
        text.append("no agent selected", style="dim")
        return text
    if hook is None or hook.bead_id is None:
        text.append(f"{agent}\n", style="bold")
        text.append("hook empty", style="dim")
        return text
    text.append(f"{hook.bead_id} ", style="bold")
    text.append(hook.title)
    if hook.molecule_id:
        total = hook.step_count
        text.append(f"\n{hook.formula or 'molecule'} {hook.molecule_id}  {hook.done:,}/{total:,}", style="dim")
        if hook.total is not None:      # a big molecule: a progress bar, then the steps around the next
            text.append("\n" + progress_bar(hook.done, total), style="green")
            text.append(f" step {min(hook.done + 1, total):,} of {total:,}", style="bold")
        for step in hook.steps:
            mark = STEP_MARK.get(step.status, "[ ]")
            style = "dim" if step.status == "closed" else ("bold" if step.ready else "")
            text.append(f"\n{mark} {step.title}", style=style)
    else:
        text.append("\nno molecule attached", style="dim")
    if hook.ralph:
        text.append(f"\n{hook.ralph}", style="yellow")
    return text


class HookPanel(Static):
    """Renders one HookView."""

    def show_hook(self, hook: HookView | None, agent: str | None) -> None:
        if (hook, agent) == getattr(self, "_shown", None):  # unchanged: no redraw, no relayout
            return
        self._shown = (hook, agent)
        self.border_title = "Hook" + (f" · {agent}" if agent else "")
        self.update(hook_text(hook, agent), layout=False)  # fixed height in the style sheet: no layout pass
