"""Where a session runs: the provider the session manager asks before it starts a local PTY.

`NodeProvider.session_for(spec, presets)` returns a RemoteSession when the agent is placed on a node
(nodes/placement.py), else None (the manager starts a local Session as always). One NodeLink (one SSH
connection) per node carries every session placed there; it is opened on the first start and opened
again after it was lost. Another provider (a Kubernetes pod per polecat, docs/nodes.md) would implement
the same `session_for` and a link with the same channel.

Each link is watched by the town's `NodeWatch` (nodes/grace.py): branches collected as they move, a
node gone past the grace given up, a returning node's work collected."""
from __future__ import annotations

import asyncio
import dataclasses
import os
from pathlib import Path

from gastown_tui.nodes.link import NodeLink
from gastown_tui.nodes.placement import placement_of, placements_path, placing_beads, placing_dir
from gastown_tui.nodes.registry import get_node
from gastown_tui.nodes.relay import TownRelay
from gastown_tui.town.layout import Town

SETTLE_TIMEOUT = 180.0  # longest wait for a sling placing an agent on a node (its clone) to record it

class NodeProvider:
    def __init__(self, town_root: Path) -> None:
        self.town = Town(Path(town_root))
        self.links: dict[str, NodeLink] = {}
        self.watch = None  # nodes.grace.NodeWatch, made with the first link (it needs the running loop)

    def link_for(self, node_name: str) -> NodeLink:
        link = self.links.get(node_name)
        if link is None or link.lost:
            node = get_node(self.town, node_name)
            link = NodeLink(node)
            link.exec_handler = TownRelay(self.town.root, node)
            self.links[node_name] = link
            if self.watch is None:
                from gastown_tui.nodes.grace import NodeWatch

                self.watch = NodeWatch(self.town)
            self.watch.watch(link)
        return link

    def _being_placed(self, agent: str) -> bool:
        """The agent's hooked bead is being slung onto a node right now, its placement not yet recorded."""
        beads = placing_beads(self.town)
        if not beads or placement_of(self.town, agent) is not None:
            return False
        from gastown_tui.town.hooks import hooked_work

        hooked = hooked_work(self.town, agent)
        return hooked is not None and hooked.id in beads

    async def settle(self, spec) -> None:
        """Before a session starts: a sling (the CLI's, another process's) hooks a new polecat's bead
        before its clone on the node exists and its placement is recorded; in that window the patrols
        already see the hook. Wait for the placement (or the sling's end) rather than start it here."""
        try:
            if not os.listdir(placing_dir(self.town)):
                return
        except FileNotFoundError:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_TIMEOUT
        while loop.time() < deadline and await loop.run_in_executor(None, self._being_placed, str(spec.agent)):
            await asyncio.sleep(0.1)

    def session_for(self, spec, presets):
        if not placements_path(self.town).exists():
            return None
        placed = placement_of(self.town, str(spec.agent))
        if placed is None:
            return None
        from gastown_tui.nodes.remote_session import RemoteSession

        node_name, wt = placed
        remote_spec = dataclasses.replace(spec, cwd=Path(wt.relative))
        return RemoteSession(remote_spec, self.link_for(node_name), presets, relay=True, local_cwd=Path(spec.cwd),
                             remote_worktree=wt)

    async def close(self) -> None:
        if self.watch is not None:
            self.watch.close()
        for link in self.links.values():
            await link.close()


def provider_for(town_root: Path | None) -> NodeProvider | None:
    """The town's provider (it reads the placements on each start, so nodes added later are used)."""
    return NodeProvider(Path(town_root)) if town_root is not None else None
