"""The town tree: town roles, then each rig with its Witness, Refinery, polecats and crew.

Each agent line shows its number (for jump-by-number), its state glyph (or the
plain word), its name, its hook and how long it has been in that state.
Selecting a line posts `AgentTree.AgentChosen`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from rich.style import Style
from rich.text import Text
from textual.message import Message
from textual.reactive import var
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from widgets.glyphs import format_age, glyph
from widgets.styling import role_style, state_style
from widgets.view_models import AgentView

TOWN_ROLE_ORDER = {"mayor": 0, "deacon": 1, "boot": 2}
RIG_ROLE_ORDER = {"witness": 0, "refinery": 1, "polecat": 2, "crew": 3}


def tree_order(agents: list[AgentView]) -> list[AgentView]:
    """Agents in the order the tree shows (and numbers) them."""
    town = sorted((a for a in agents if a.rig is None), key=lambda a: (TOWN_ROLE_ORDER.get(a.role, 9), a.name))
    rigs = sorted({a.rig for a in agents if a.rig is not None})
    ordered = list(town)
    for rig in rigs:
        ordered += sorted((a for a in agents if a.rig == rig), key=lambda a: (RIG_ROLE_ORDER.get(a.role, 9), a.name))
    return ordered


class AgentTree(Tree[str]):
    """Agents by rig, with state glyphs, hooks and time in state."""

    plain: var[bool] = var(False)
    """Plain glyphs (words, no symbols; settings `app.glyphs`); the Town screen binds it (data_bind)."""

    @dataclass
    class AgentChosen(Message):
        tree: "AgentTree"
        address: str

        @property
        def control(self) -> "AgentTree":
            return self.tree

    @dataclass
    class PaneWanted(Message):
        """Enter on an agent: the Overseer wants to type into its pane."""

        tree: "AgentTree"
        address: str

        @property
        def control(self) -> "AgentTree":
            return self.tree

    def __init__(self, **kwargs) -> None:
        super().__init__("town", **kwargs)
        self.show_root = False
        self.guide_depth = 2
        self._agents: list[AgentView] = []
        self._agent_nodes: dict[str, TreeNode[str]] = {}
        self._structure: tuple = ()
        self.clock: Callable[[], datetime] | None = None
        self._quiet = False
        self._wanted: str | None = None  # the agent the screen has chosen (the cursor follows it)
        self._moved_to: TreeNode[str] | None = None  # a node our own cursor move is about to highlight
        self._component_styles: dict[tuple, Style] = {}
        self._labels_theme: str | None = None  # the theme the labels were last redrawn for

    def get_component_rich_style(self, *names: str, partial: bool = False, default: Style | None = None) -> Style:
        """Tree asks for four to six component styles for every line it draws, and Textual forgets them on
        every refresh, so moving the cursor used to spend half of each redrawn line walking the DOM for
        them. Kept here until the tree's focus or the theme changes, or its styles are applied again."""
        key = (names, partial, self.has_focus, self.app.theme)
        style = self._component_styles.get(key)
        if style is None:
            style = super().get_component_rich_style(*names, partial=partial, default=default)
            self._component_styles[key] = style
        return style

    def notify_style_update(self) -> None:
        """The theme (or CSS) changed: component styles are looked up again, and the labels, which carry
        the theme's state and role colours, are redrawn (no redraw by hand on a theme switch)."""
        self._component_styles.clear()
        super().notify_style_update()
        if self.app.theme != self._labels_theme:  # (styles are applied again several times as a screen starts)
            self._labels_theme = self.app.theme
            self.refresh_labels()

    @property
    def ordered(self) -> list[AgentView]:
        return list(self._agents)

    def _label(self, number: int, agent: AgentView) -> Text:
        now = self.clock() if self.clock else None
        age = format_age((now - agent.since).total_seconds()) if (now and agent.since) else ""
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{number:>2} " if number < 100 else f"{number} ", style="dim")
        text.append(glyph(agent.state, self.plain), style=state_style(self, agent.state, bold=True))
        text.append(" ")
        text.append(agent.name, style=role_style(self, agent.role))
        if agent.node:  # it runs on another machine (docs/nodes.md)
            text.append(f" @{agent.node}", style="dim")
        if agent.cost:  # what its model calls cost; a patrol role "$0" (code, not a model)
            text.append(f" {agent.cost}", style="dim" if agent.state == "patrol" else "bold")
        if agent.ghost:  # it left the town: how and how long ago come first, the hook it had last
            text.append(f" {agent.ghost}", style=state_style(self, agent.state))
            if age:
                text.append(f" {age}", style="dim")
            if agent.hook_id:
                text.append(f" {agent.hook_id}", style="italic")
            return text
        if agent.hook_id:
            text.append(f" {agent.hook_id}", style="italic")
        if age:
            text.append(f" {age}", style="dim")
        return text

    def show_agents(self, agents: list[AgentView], selected: str | None) -> None:
        """Renders the agents; rebuilds nodes only when the set of agents changes."""
        self._agents = tree_order(agents)
        structure = tuple((a.rig, a.address) for a in self._agents)
        if structure != self._structure:
            self._structure = structure
            self._rebuild()
        else:
            self.refresh_labels()
        if selected:
            self.select_agent(selected)
            self.call_after_refresh(self._reselect)  # once the new lines exist

    def _rebuild(self) -> None:
        self._quiet = True
        self.clear()
        self._agent_nodes.clear()
        current: TreeNode[str] | None = None
        current_rig: object = ()
        for number, agent in enumerate(self._agents, start=1):
            if agent.rig != current_rig:
                current_rig = agent.rig
                title = "town" if agent.rig is None else f"rig {agent.rig}"
                current = self.root.add(Text(title, style="bold"), data=None, expand=True)
            assert current is not None
            node = current.add_leaf(self._label(number, agent), data=agent.address)
            self._agent_nodes[agent.address] = node
        self._quiet = False

    def refresh_labels(self) -> None:
        """Relabels the agents whose line would read differently (state, hook, age); others are not redrawn."""
        for number, agent in enumerate(self._agents, start=1):
            node = self._agent_nodes.get(agent.address)
            if node is not None:
                label = self._label(number, agent)
                if label.plain != node.label.plain or label.spans != node.label.spans:
                    node.set_label(label)

    def select_agent(self, address: str) -> None:
        """Puts the cursor on `address` without choosing it (the screen already did)."""
        self._wanted = address
        node = self._agent_nodes.get(address)
        if node is not None and self.cursor_node is not node:
            self._moved_to = node  # the highlight this move causes is ours, not the Overseer's
            self.move_cursor(node)

    def _reselect(self) -> None:
        if self._wanted:
            self.select_agent(self._wanted)

    def action_select_cursor(self) -> None:
        node = self.cursor_node
        if node is not None and node.data:
            self.post_message(self.PaneWanted(self, node.data))
        else:
            super().action_select_cursor()

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        event.stop()
        # only the Overseer moving the cursor chooses an agent: a rebuild or a programmatic move does not
        if event.node is self._moved_to:
            self._moved_to = None
            return
        if not self._quiet and self.has_focus and event.node is self.cursor_node and event.node.data \
                and event.node.data != self._wanted:
            self.post_message(self.AgentChosen(self, event.node.data))

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        if event.node.data:
            self.post_message(self.AgentChosen(self, event.node.data))
