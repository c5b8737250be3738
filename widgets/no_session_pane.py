"""The placeholder a pane slot shows when its agent has no live session (why, and what to press)."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from gastown_tui.patrols.activity import PatrolActivity
from widgets.patrol_pane import render_activity
from widgets.view_models import AgentView


def _no_session_text(agent: AgentView, why: str, activity: PatrolActivity | None = None) -> Text:
    if agent.state == "patrol" and not agent.ghost:
        return render_activity(activity or PatrolActivity(agent.role, agent.role, agent.rig, "starting"))
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
    """Shown in a pane slot when the agent has no live session; for a role that runs as a patrol inside the
    town (Deacon, Boot, a Witness, a Refinery), the patrol at work (`show_patrol`)."""

    def __init__(self, agent: AgentView, why: str) -> None:
        super().__init__(_no_session_text(agent, why), classes="no-session")
        self.agent = agent
        self.why = why

    def show_agent(self, agent: AgentView, why: str) -> None:
        self.agent, self.why = agent, why
        self.update(_no_session_text(agent, why), layout=False)

    def show_patrol(self, activity: PatrolActivity) -> None:
        """Redraws a patrol role's pane with the patrol's latest activity (the app polls the town for it)."""
        if self.agent.state == "patrol" and activity.role == self.agent.role and activity.rig == self.agent.rig:
            self.update(_no_session_text(self.agent, self.why, activity), layout=False)
