"""The header line: the town's name and its counts (agents by state, convoys, merge queue, mail)."""
from __future__ import annotations

from collections import Counter

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from widgets.glyphs import STATES, glyph
from widgets.view_models import TownView

COUNTED = ("working", "needs_approval", "stuck", "dead", "idle", "finished_unseen")
BOLD = Style(bold=True)


def state_class(state: str) -> str:
    """The component class that colours STATE's glyph and count (`town-header--state-needs-approval`)."""
    return f"town-header--state-{state.replace('_', '-')}"


class TownHeader(Static):
    """One line: `gastown <town> · today $1.23 · 12 agents ●3 ◆1 ... · ◎4 patrols · ✓2 finished · convoys 1/2 (landed/all) · MQ 2 · needs you 4
    · mail 3 new` (today's spend once any model call
    was recorded). Agents that have left the town (ghosts) are not counted as agents, only as finished/gone.

    | Class | Description |
    | :- | :- |
    | `town-header--state-<state>` | a state's glyph and count (`<state>` as in `$state-<state>`) |

    The app's style sheet (themes/app.tcss) colours them from the theme's `$state-*` variables; the line is
    drawn from them when Textual renders it, so a theme switch recolours it with no redraw by hand.
    """

    COMPONENT_CLASSES = {state_class(state) for state in STATES}

    plain: reactive[bool] = reactive(False)
    """Plain glyphs (words, no symbols; settings `app.glyphs`); screens bind it (data_bind)."""
    town: reactive[TownView | None] = reactive(None)
    """The town it counts; screens bind their view to it (data_bind). Repainted only when it changes."""
    title: reactive[str] = reactive("")
    """The screen's name, after the town's (`· Beads`)."""

    def __init__(self, title: str = "", **kwargs) -> None:
        super().__init__(Text.assemble((" gastown ", "bold reverse"), "  loading the town…"), **kwargs)
        self.set_reactive(TownHeader.title, title)

    def show_town(self, town: TownView, screen_title: str | None = None) -> None:
        """Shows TOWN (and SCREEN_TITLE, when given); the same as setting `town` and `title`."""
        if screen_title is not None:
            self.title = screen_title
        self.town = town

    @property
    def text(self) -> Text:
        """The line as shown (the loading line before the town is known)."""
        if self.town is None:
            return Text.assemble((" gastown ", "bold reverse"), "  loading the town…")
        return self._line(self.town)

    def render(self):
        return super().render() if self.town is None else self._line(self.town)

    def _state_style(self, state: str) -> Style:
        return self.get_component_rich_style(state_class(state), partial=True, default=Style()) + BOLD

    def _line(self, town: TownView) -> Text:
        everyone = [a for a in town.agents if not a.ghost]
        agents = [a for a in everyone if a.state != "patrol"]      # patrols are code, counted apart
        patrols = len(everyone) - len(agents)
        left = Counter(a.ghost for a in town.agents if a.ghost)
        states = Counter(a.state for a in agents)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" gastown ", style="bold reverse")
        text.append(f" {town.name} ", style="bold")
        if self.title:
            text.append(f"· {self.title} ", style="italic")
        if town.spend is not None:  # costs (issue 15): shown once the town has recorded any model call
            text.append(f"· today {town.spend.today} ", style="bold")
            if town.spend.unknown_records:
                text.append(f"({town.spend.unknown_records} usage records unreadable) ", style="bold red")
        text.append(f"· {len(agents)} agents ")
        for state in COUNTED:
            if states.get(state):
                text.append(f"{glyph(state, self.plain)}{states[state]} ", style=self._state_style(state))
        if patrols:
            text.append(f"· {glyph('patrol', self.plain)}{patrols} patrols ")
        if left:
            words = " ".join(f"{n} {how}" for how, n in sorted(left.items()))
            text.append(f"· {glyph('finished', self.plain)}{words} ", style=self._state_style("finished"))
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
        return text
