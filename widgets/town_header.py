"""The header line: the town's name and its counts (agents by state, convoys, merge queue, mail)."""
from __future__ import annotations

from collections import Counter

from rich.text import Text
from textual.reactive import var
from textual.widgets import Static

from widgets.glyphs import glyph
from widgets.styling import state_style
from widgets.view_models import TownView

COUNTED = ("working", "needs_approval", "stuck", "dead", "idle", "finished_unseen")


class TownHeader(Static):
    """One line: `gastown <town> · today $1.23 · 12 agents ●3 ◆1 ... · ◎4 patrols · ✓2 finished · convoys 1/2 (landed/all) · MQ 2 · needs you 4
    · mail 3 new` (today's spend once any model call
    was recorded). Agents that have left the town (ghosts) are not counted as agents, only as finished/gone."""

    plain: var[bool] = var(False)
    """Plain glyphs (words, no symbols; settings `app.glyphs`); the Town screen binds it (data_bind)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(Text.assemble((" gastown ", "bold reverse"), "  loading the town…"), **kwargs)

    def notify_style_update(self) -> None:
        """The theme (or CSS) changed: the state counts carry its colours."""
        super().notify_style_update()
        shown = getattr(self, "_shown_town", None)
        if shown is not None:
            self.show_town(*shown)

    def show_town(self, town: TownView, screen_title: str = "") -> None:
        self._shown_town = (town, screen_title)
        everyone = [a for a in town.agents if not a.ghost]
        agents = [a for a in everyone if a.state != "patrol"]      # patrols are code, counted apart
        patrols = len(everyone) - len(agents)
        left = Counter(a.ghost for a in town.agents if a.ghost)
        states = Counter(a.state for a in agents)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" gastown ", style="bold reverse")
        text.append(f" {town.name} ", style="bold")
        if screen_title:
            text.append(f"· {screen_title} ", style="italic")
        if town.spend is not None:  # costs (issue 15): shown once the town has recorded any model call
            text.append(f"· today {town.spend.today} ", style="bold")
            if town.spend.unknown_records:
                text.append(f"({town.spend.unknown_records} usage records unreadable) ", style="bold red")
        text.append(f"· {len(agents)} agents ")
        for state in COUNTED:
            if states.get(state):
                text.append(f"{glyph(state, self.plain)}{states[state]} ", style=state_style(self, state, bold=True))
        if patrols:
            text.append(f"· {glyph('patrol', self.plain)}{patrols} patrols ")
        if left:
            words = " ".join(f"{n} {how}" for how, n in sorted(left.items()))
            text.append(f"· {glyph('finished', self.plain)}{words} ", style=state_style(self, "finished", bold=True))
        landed = sum(1 for c in town.convoys if c.total and c.done == c.total)
        text.append(f"· convoys {landed}/{len(town.convoys)} ")
        active = sum(1 for m in town.mrs if m.state not in ("merged", "superseded", "rejected"))
        text.append(f"· MQ {active} ")
        if town.needs_you:
            text.append(f"· needs you {len(town.needs_you)} ", style="bold reverse")
        text.append(f"· mail {town.unread} new")
        for node in town.nodes:  # each node's health: up with n/max and load, DOWN, or not ready
            if node.up is None:
                text.append(f" · {node.name} unchecked {node.placed}/{node.max_polecats}", style="dim")
            elif not node.up:
                text.append(f" · {node.name} DOWN {node.placed}/{node.max_polecats}", style="bold red")
            else:
                load = f" load {node.load:.2f}" if node.load is not None else ""
                word = "up" if node.ready else "NOT READY"
                text.append(f" · {node.name} {word} {node.placed}/{node.max_polecats}{load}",
                            style="" if node.ready else "bold yellow")
        if town.errors:
            text.append(f" · {len(town.errors)} problems", style="bold red")
        if text != getattr(self, "_shown_text", None):  # redraw only when something it says changed
            self._shown_text = text
            self.update(text, layout=False)  # one fixed line: no layout pass
