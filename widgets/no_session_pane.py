"""The placeholder a pane slot shows when its agent has no live session (why, and what to press)."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from widgets.view_models import AgentView


def _no_session_text(agent: AgentView, why: str) -> Text:
    text = Text()
    text.append(f"{agent.address}\n", style="bold")
    if agent.ghost:
        text.append(f"{agent.ghost}: it left the town ({why})\n", style="dim")
        text.append(agent.state_reason, style="dim")
        return text
    text.append(f"no live session ({why})\n", style="dim")
    text.append("press s to start it, or R to restart", style="dim")
    return text


class NoSessionPane(Static, can_focus=False):
    """Shown in a pane slot when the agent has no live session."""

    def __init__(self, agent: AgentView, why: str) -> None:
        super().__init__(_no_session_text(agent, why), classes="no-session")

    def show_agent(self, agent: AgentView, why: str) -> None:
        self.update(_no_session_text(agent, why), layout=False)
