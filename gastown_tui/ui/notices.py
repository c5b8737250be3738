"""What changed between two views that the Overseer should be told about (toast, optional bell)."""
from __future__ import annotations

from gastown_tui.ui.messages import Notice
from widgets.view_models import TownView


def notices(old: TownView | None, new: TownView) -> list[Notice]:
    """Convoy landed, agent needs approval, escalation arrived, merge failed (only new ones)."""
    if old is None:
        return []
    out: list[Notice] = []
    before = {c.id: c for c in old.convoys}
    for convoy in new.convoys:
        was = before.get(convoy.id)
        landed = convoy.total > 0 and convoy.done == convoy.total
        if landed and was is not None and not (was.total > 0 and was.done == was.total):
            out.append(Notice("Convoy landed", f"{convoy.title} ({convoy.id}) {convoy.done}/{convoy.total}"))
    states = {a.address: a.state for a in old.agents}
    for agent in new.agents:
        if agent.state == "needs_approval" and states.get(agent.address) != "needs_approval":
            out.append(Notice("Needs approval", f"{agent.address} is asking", "warning", bell=True))
    old_items = {(i.kind, i.key) for i in old.needs_you}
    for item in new.needs_you:
        if item.kind == "escalation" and (item.kind, item.key) not in old_items:
            out.append(Notice("Escalation", item.title, "error", bell=True))
    mr_states = {m.id: m.state for m in old.mrs}
    for mr in new.mrs:
        if mr.state in ("failed", "conflict") and mr_states.get(mr.id) != mr.state:
            out.append(Notice("Merge failed", f"{mr.id} {mr.state}: {mr.title}", "error", bell=True))
    return out
