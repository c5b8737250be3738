"""Convoys as an expandable tree with x/y progress and cost; each tracked bead shows state, cost and holder."""
from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.reactive import var
from textual.widgets import Tree

from widgets.view_models import ConvoyView, TrackedView

STATUS_MARK = {"closed": "✓", "in_progress": "→", "hooked": "→", "blocked": "⊘", "open": "·"}
PLAIN_MARK = {"closed": "done", "in_progress": "work", "hooked": "work", "blocked": "blkd", "open": "open"}


def convoy_label(convoy: ConvoyView) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    landed = convoy.total > 0 and convoy.done == convoy.total
    text.append(f"{convoy.done}/{convoy.total} ", style="bold green" if landed else "bold")
    if convoy.cost:  # what its beads' model calls cost (shown before the title: a long title is cut off)
        text.append(f"{convoy.cost} ", style="bold")
    text.append(convoy.title)
    text.append(f" {convoy.id}", style="dim")
    return text


def tracked_label(t: TrackedView, plain: bool = False) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    mark = (PLAIN_MARK if plain else STATUS_MARK).get(t.status, t.status)
    text.append(f"{mark} ", style="bold")
    text.append(f"{t.bead_id} ", style="dim")
    if t.cost:
        text.append(f"{t.cost} ")
    text.append(t.title)
    if t.holder:
        text.append(f" @{t.holder}", style="italic")
    if t.steps_total:
        text.append(f" {t.steps_done}/{t.steps_total}", style="dim")
    return text


class ConvoyTree(Tree[str]):
    """Convoys (expandable) and their tracked beads."""

    plain: var[bool] = var(False)
    """Plain glyphs (words, no symbols; settings `app.glyphs`); the Town screen binds it (data_bind)."""

    @dataclass
    class BeadChosen(Message):
        bead_id: str
        convoy_id: str | None

    def __init__(self, **kwargs) -> None:
        super().__init__("convoys", **kwargs)
        self.show_root = False
        self._key: tuple = ()
        self._expanded: set[str] = set()

    def show_convoys(self, convoys: list[ConvoyView]) -> None:
        key = tuple(convoys)
        if key == self._key:
            return
        self._key = key
        self._expanded = {n.data for n in self.root.children if n.is_expanded and n.data} or self._expanded
        self.clear()
        for convoy in convoys:
            node = self.root.add(convoy_label(convoy), data=convoy.id,
                                 expand=convoy.id in self._expanded or len(convoys) == 1)
            for tracked in convoy.tracked:
                node.add_leaf(tracked_label(tracked, self.plain), data=tracked.bead_id)
        if not convoys:
            self.root.add_leaf(Text("no convoys", style="dim"))

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        node = event.node
        if node.data and node.parent is not None and node.parent is not self.root:
            self.post_message(self.BeadChosen(node.data, node.parent.data))
