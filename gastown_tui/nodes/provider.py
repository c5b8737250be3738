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
import logging
import os
from pathlib import Path

from gastown_tui.errors import UserError
from gastown_tui.nodes.git import RemoteWorktree
from gastown_tui.nodes.link import NodeLink
from gastown_tui.nodes.placement import placement_of, placements_path, placing_beads, placing_dir
from gastown_tui.nodes.registry import get_node
from gastown_tui.nodes.relay import TownRelay
from gastown_tui.nodes.remote_adoption import drop_record, load_records
from gastown_tui.nodes.town_identity import town_proof
from gastown_tui.sessions.spec import SessionSpec
from gastown_tui.town.events import append_event
from gastown_tui.town.layout import Town
from gastown_tui.nodes.remote_session import RemoteSession
from gastown_tui.town.hooks import hooked_work

log = logging.getLogger(__name__)

ORPHAN_MARGIN = 60.0  # past the grace, the node hangs up a program whose town has said nothing


def orphan_margin() -> float:
    return float(os.environ.get("GASTOWN_NODE_ORPHAN_MARGIN") or ORPHAN_MARGIN)


def given_up_nodes(town) -> list[str]:
    # deferred: the grace watch (and its git) loads with the first node link
    from gastown_tui.nodes.grace import load_gone

    return sorted(n for n, lst in load_gone(town)[0].items() if lst)


def spec_of(rec: dict, town_root: Path, presets) -> SessionSpec:
    """The spec a re-adopted session had (its cwd is the worktree's path relative to the node's folder); an
    agent whose preset is unknown here runs on the `shell` rules (as a keeper's adopted agent does)."""
    data = dict(rec.get("spec") or {})
    preset = str(rec.get("preset") or "shell")
    return SessionSpec(agent=str(rec["agent"]), preset=preset if preset in presets else "shell",
                       cwd=Path(data.pop("cwd", None) or "."),
                       town=Path(data["town"]) if data.get("town") else Path(town_root),
                       **{k: v for k, v in data.items()
                          if k in ("env", "argv", "beacon", "cols", "rows", "scrollback_lines", "resume", "engine")
                          and v is not None})


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
            link.execs.runner = TownRelay(self.town.root, node)
            link.town_proof = town_proof(self.town.root, node.name, node.dir)
            self.links[node_name] = link
            if self.watch is None:
                # deferred: the grace watch (and its git) loads with the first node link
                from gastown_tui.nodes.grace import NodeWatch

                self.watch = NodeWatch(self.town)
            link.orphan_after = self.watch.grace + orphan_margin()
            self.watch.watch(link)
        return link

    async def adopt(self, presets, taken: set[str], listener) -> list:
        """The remote sessions an earlier server of this town left running (nodes/remote_adoption.py), taken
        over: each a RemoteSession at once (LISTENER added before it starts), its node's link connecting in
        the background. An agent in TAKEN (already alive here), a second record for one agent, or a node
        no longer registered: the record is dropped, so the node hangs that program up."""

        loop = asyncio.get_running_loop()
        records = await loop.run_in_executor(None, load_records, self.town.root)
        adopted, links = [], {}
        for rec in sorted(records, key=lambda r: r.get("started_at") or 0, reverse=True):  # the newest first
            agent = str(rec["agent"])
            try:
                if agent in taken:
                    raise ValueError(f"{agent} already runs in this town")
                link = self.link_for(str(rec["node"]))
                spec = spec_of(rec, self.town.root, presets)
                wt = RemoteWorktree(**rec["remote_worktree"]) if rec.get("remote_worktree") else None
                session = RemoteSession(spec, link, presets, relay=bool(rec.get("relay")),
                                        local_cwd=Path(rec["local_cwd"]) if rec.get("local_cwd") else None,
                                        remote_worktree=wt)
                session.add_listener(listener)
                await session.resume(rec)
            except Exception as exc:  # one bad record never stops the others (nor the server)
                log.warning("remote session %s (%s on node %s) not re-adopted: %s", rec.get("sid"), agent,
                            rec.get("node"), exc)
                append_event(self.town.events_path, "node_adopt_skipped", "town", node=rec.get("node"),
                             agent=agent, sid=rec.get("sid"), reason=str(exc))
                drop_record(self.town.root, str(rec["sid"]))
                continue
            taken.add(agent)
            adopted.append(session)
            links[link.node.name] = link
        for name in await loop.run_in_executor(None, given_up_nodes, self.town):  # an earlier server's give-ups:
            if name not in links:  # collected when the node returns (nodes/grace.py)
                try:
                    links[name] = self.link_for(name)
                except UserError as exc:  # the node was removed since: nothing to collect from
                    log.warning("given-up node %s not watched: %s", name, exc)
        for name, link in links.items():
            link.resume(f"node {name}: reconnecting to re-adopt its sessions after the town server restarted")
        return adopted

    def _being_placed(self, agent: str) -> bool:
        """The agent's hooked bead is being slung onto a node right now, its placement not yet recorded."""
        beads = placing_beads(self.town)
        if not beads or placement_of(self.town, agent) is not None:
            return False

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
