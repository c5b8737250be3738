"""A node gone for good, and a node coming back (docs/nodes.md, "Faults").

`NodeWatch` watches every link of the town's node provider:

- **While a link is up**, the node reports, with each pong, the commit each session's worktree is at
  (nodes/node_daemon.py). When that commit moves, the town fetches the polecat's branch (only its own
  branch) into the rig's bare repository as `refs/nodes/<node>/<branch>`, a few seconds after the move
  (COLLECT_DELAY, so a burst of commits is one fetch). So the town holds, within seconds, every commit a
  node has told it about.
- **A link down longer than the grace** (the town timer `node_grace`, default 10m): the node's polecats
  are marked dead (their sessions end, -1, the reason in their state detail) and each one's hooked bead
  is re-slung to its rig — a new polecat, which redoes the work (NDI) — **only when the town holds the
  last commit the node reported for it**. When the node reported a commit the town has not fetched yet,
  the bead stays on the dead polecat's hook ("held"): the node may still deliver that commit, and the
  Witness's failed restarts escalate it to a person. Commits made on the node after the link dropped
  cannot be known in the town; they are not lost either (next point).
- **When the node comes back**, each given-up polecat's branch is fetched into
  `refs/nodes/<node>/<branch>` (its work collected, whatever happened meanwhile), its program on the node
  is stopped (SIGTERM), and a `node_work_collected` event names the branch, the commit and whether the
  town already had it. A re-slung polecat's placement is then forgotten (the node's capacity is free);
  its clone on the node stays. Nothing is deleted.

Everything that runs git or writes the ledger runs off the event loop."""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from gastown_tui.nodes.git import RemoteWorktree, check_branch
from gastown_tui.nodes.link import UP, NodeLink
from gastown_tui.nodes.ssh import NodeError, git_ssh_command, git_url
from gastown_tui.town.events import append_event
from gastown_tui.town.jsonfile import read_json, write_json
from gastown_tui.errors import UserError
from gastown_tui.nodes.placement import forget_placement, placement_of, sling_placed
from gastown_tui.town.agents import set_agent_state
from gastown_tui.town.hooks import hooked_work, unhook_bead
from gastown_tui.town.rigs import get_rig
from gastown_tui.town.settings import TownSettings
from gastown_tui.town.write_lock import process_write_lock

log = logging.getLogger(__name__)

DEFAULT_GRACE = 600.0
COLLECT_DELAY = 2.0
CHECK_EVERY = 1.0
ACTOR = "deacon"


def collected_ref(node: str, branch: str) -> str:
    return f"refs/nodes/{node}/{branch}"


def collect_tip(node, rig_repo: Path, wt) -> str:
    """Fetches the polecat's branch from its clone on the node into the rig's bare repo as
    refs/nodes/<node>/<branch> (only that branch is read; no branch of the rig is written). Its commit."""
    check_branch(wt.polecat, wt.branch)
    dest = collected_ref(node.name, wt.branch)
    env = {**os.environ, "GIT_SSH_COMMAND": git_ssh_command(node), "GIT_TERMINAL_PROMPT": "0"}
    res = subprocess.run(["git", "-C", str(rig_repo), "fetch", "-q", "--no-tags", git_url(node, wt.path),
                          f"+refs/heads/{wt.branch}:{dest}"], capture_output=True, text=True, timeout=120, env=env,
                         stdin=subprocess.DEVNULL)
    if res.returncode != 0:
        raise NodeError(f"node {node.name}: cannot collect {wt.branch}: {res.stderr.strip()[-300:]}")
    return subprocess.run(["git", "-C", str(rig_repo), "rev-parse", dest], capture_output=True, text=True,
                          timeout=30, check=True).stdout.strip()


def has_commit(repo: Path, sha: str) -> bool:
    return subprocess.run(["git", "-C", str(repo), "cat-file", "-e", f"{sha}^{{commit}}"], capture_output=True,
                          timeout=30).returncode == 0


@dataclass
class Gone:
    """A polecat given up with its node."""
    node: str
    sid: str
    agent: str
    branch: str | None
    bead: str | None
    reported: str | None  # the last commit the node reported for its worktree
    decision: str  # resling | held | no-work
    resling_to: str | None = None
    wt: object = None
    at: float = field(default_factory=time.time)

    def record(self) -> dict:
        return {**{k: v for k, v in self.__dict__.items() if k != "wt"},
                "wt": dataclasses.asdict(self.wt) if self.wt is not None else None}

    @classmethod
    def from_record(cls, rec: dict) -> "Gone":
        data = {k: rec.get(k) for k in ("node", "sid", "agent", "branch", "bead", "reported", "decision",
                                        "resling_to")}
        wt = RemoteWorktree(**rec["wt"]) if isinstance(rec.get("wt"), dict) else None
        return cls(**data, wt=wt, at=float(rec.get("at") or time.time()))


def gone_path(town) -> Path:
    return Path(town.root) / ".runtime" / "nodes" / "gone.json"


def load_gone(town) -> tuple[dict[str, list[Gone]], list[dict]]:
    """What an earlier server gave up and has not collected yet (`gone.json`), so a restarted town still
    collects it when the node returns. A file that cannot be read is logged and counts as empty."""
    try:
        data = read_json(gone_path(town), default={})
        gone = {str(n): [Gone.from_record(r) for r in lst] for n, lst in (data.get("gone") or {}).items()}
        return gone, list(data.get("returned") or [])
    except (UserError, TypeError, KeyError, ValueError, AttributeError) as exc:
        log.warning("%s: not read (%s); given-up nodes of an earlier server are not collected", gone_path(town), exc)
        return {}, []


class NodeWatch:
    def __init__(self, town, grace: float | None = None) -> None:
        self.town = town
        self.grace = grace if grace is not None else self._grace_setting()
        self.links: list[NodeLink] = []
        # node -> its given-up polecats (until it comes back), and what came back: an earlier server's too
        self.gone, self.returned = load_gone(town)
        self.collected: dict[str, str] = {}  # branch -> the commit fetched into refs/nodes/...
        self._collect_due: dict[str, tuple[NodeLink, str, float]] = {}  # sid -> (link, sha, due at)
        self._task: asyncio.Task | None = None
        self._busy: set[str] = set()

    def _grace_setting(self) -> float:
        try:
            return TownSettings.load(self.town.settings_path).timer("node_grace")
        except UserError:  # an old settings file without the timer (or a bad one: said in the log): the default
            log.warning("node grace: %s; using %gs", sys.exc_info()[1], DEFAULT_GRACE)
            return DEFAULT_GRACE

    def watch(self, link: NodeLink) -> None:
        if link in self.links:
            return
        self.links.append(link)
        link.head_listeners.append(self._moved)
        link.listeners.append(self._state)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="node-watch")

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    # -- collecting while up ---------------------------------------------------------------------
    def _moved(self, link: NodeLink, sid: str, sha: str) -> None:
        handler = link.handlers.get(sid)
        if getattr(handler, "remote_worktree", None) is None:
            return
        if self.collected.get(handler.remote_worktree.branch) == sha:
            return
        self._collect_due[sid] = (link, sha, time.monotonic() + COLLECT_DELAY)

    async def _collect(self, link: NodeLink, wt, sha: str | None = None) -> str | None:
        loop = asyncio.get_running_loop()
        try:
            rig = await loop.run_in_executor(None, get_rig, self.town, wt.rig)
            got = await loop.run_in_executor(None, collect_tip, link.node, rig.repo, wt)
        except Exception as exc:  # unreachable again, or git failed: tried again on the next move or return
            link.errors.append(f"collect {wt.branch}: {exc}")
            log.warning("node %s: collecting %s failed (tried again later): %s", link.node.name, wt.branch, exc)
            return None
        self.collected[wt.branch] = got
        return got

    # -- the grace -----------------------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            await asyncio.sleep(CHECK_EVERY)
            now = time.monotonic()
            for sid, (link, sha, due) in list(self._collect_due.items()):
                handler = link.handlers.get(sid)
                if due <= now and link.up and handler is not None and sid not in self._busy:
                    del self._collect_due[sid]
                    self._busy.add(sid)
                    try:
                        await self._collect(link, handler.remote_worktree, sha)
                    finally:
                        self._busy.discard(sid)
            for link in list(self.links):
                if (link.state != UP and link.down_since is not None and link.handlers
                        and now - link.down_since > self.grace and not link.lost):
                    await self.give_up(link)

    async def give_up(self, link: NodeLink) -> list[Gone]:
        """The node is gone past the grace: its sessions are marked dead, their beads re-slung or held."""

        loop = asyncio.get_running_loop()
        name = link.node.name
        reason = (f"node {name} gone for more than {self.grace:g}s (the node grace): marked dead "
                  f"({link.lost_reason or 'no link'})")
        out = []
        for sid, handler in list(link.handlers.items()):
            wt = getattr(handler, "remote_worktree", None)
            agent = getattr(handler, "agent", "?")
            reported = link.heads.get(sid)
            gone = Gone(name, sid, agent, wt.branch if wt else None, None, reported, "no-work", wt=wt)
            if wt is not None:
                rig = await loop.run_in_executor(None, get_rig, self.town, wt.rig)
                safe = reported is None or await loop.run_in_executor(None, has_commit, rig.repo, reported)
                gone.decision = "resling" if safe else "held"
                gone.bead = await loop.run_in_executor(None, self._decide, gone, reason)
                if gone.decision == "resling" and gone.bead is not None:  # placed, outside the write lock
                    gone.resling_to = await loop.run_in_executor(None, self._resling, gone, rig, reason)
            link.handlers.pop(sid, None)
            self._collect_due.pop(sid, None)
            handler.on_link_lost(reason)
            out.append(gone)
        self.gone.setdefault(name, []).extend(out)
        await loop.run_in_executor(None, self._save)
        return out

    def _decide(self, gone: Gone, reason: str) -> str | None:
        """Under the town's write lock, no ssh: its bead, unhooked for a re-sling when safe (the polecat
        `nuked`), or held on its hook with a `node_gone` event saying why. The re-sling itself (`_resling`)
        goes through placement after the lock is released: it may check nodes and clone over ssh."""

        with process_write_lock():
            bead = hooked_work(self.town, gone.agent)
            if bead is None:
                gone.decision = "no-work"
                return None
            if gone.decision == "held":
                append_event(self.town.events_path, "node_gone", ACTOR, node=gone.node, agent=gone.agent, bead=bead.id,
                             decision="held", reported=gone.reported,
                             reason=f"{reason}; its branch {gone.branch} is at {gone.reported} on the node, which the "
                                    f"town has not fetched: the bead stays on its hook until the node returns")
                return bead.id
            unhook_bead(self.town, bead.id, actor=ACTOR, status="open",
                        reason=f"{reason}; re-slung (the town holds its branch's last reported commit)")
            try:
                set_agent_state(self.town, gone.agent, "nuked", hook=None)
            except (UserError, OSError, KeyError, ValueError) as exc:  # its agent bead may be gone already
                append_event(self.town.events_path, "node_gone_note", ACTOR, node=gone.node, agent=gone.agent,
                             note=f"could not mark {gone.agent} nuked: {exc}")
            return bead.id

    def _resling(self, gone: Gone, rig, reason: str) -> str | None:
        """The unhooked bead slung again through placement, never onto the gone node (`sling_placed`): the
        town machine or another node with room. Nowhere to run it: the bead stays open and ready (the
        Deacon slings it when there is room) and the event says why. The new polecat's address."""
        try:
            res = sling_placed(self.town, gone.bead, rig.name, actor=ACTOR, exclude=frozenset({gone.node}))[0]
        except (UserError, NodeError, OSError) as exc:
            append_event(self.town.events_path, "node_gone", ACTOR, node=gone.node, agent=gone.agent, bead=gone.bead,
                         decision="resling", reported=gone.reported, resling_to=None,
                         reason=f"{reason}; the re-sling failed, the bead is open and ready: {exc}")
            return None
        where = placement_of(self.town, res.agent)
        append_event(self.town.events_path, "node_gone", ACTOR, node=gone.node, agent=gone.agent, bead=gone.bead,
                     decision="resling", reported=gone.reported, resling_to=res.agent,
                     placed_on=where[0] if where else "local", reason=reason)
        return res.agent

    # -- a node coming back ----------------------------------------------------------------------------
    def _state(self, link: NodeLink) -> None:
        if link.state == UP and self.gone.get(link.node.name):
            asyncio.get_running_loop().create_task(self._returned(link))

    async def _returned(self, link: NodeLink) -> None:
        loop = asyncio.get_running_loop()
        entries = self.gone.pop(link.node.name, [])
        for gone in entries:
            link.signal_or_later(gone.sid, signal.SIGTERM)  # dead to the town: its program on the node ends
            if gone.wt is None:
                continue
            rig = await loop.run_in_executor(None, get_rig, self.town, gone.wt.rig)
            had = await loop.run_in_executor(None, self._ref, rig.repo, collected_ref(gone.node, gone.branch))
            sha = await self._collect(link, gone.wt)
            if sha is None:  # could not fetch it now: kept for the next return
                self.gone.setdefault(link.node.name, []).append(gone)
                continue
            rec = {"node": gone.node, "agent": gone.agent, "branch": gone.branch, "commit": sha,
                   "new": sha != had, "ref": collected_ref(gone.node, gone.branch), "bead": gone.bead,
                   "decision": gone.decision, "resling_to": gone.resling_to}
            if gone.decision == "resling":  # its work is collected and re-slung: the node's capacity is free again
                await loop.run_in_executor(None, forget_placement, self.town, gone.agent)
            await loop.run_in_executor(None, lambda r=rec: append_event(
                self.town.events_path, "node_work_collected", ACTOR, **r))
            self.returned.append(rec)  # last: whoever watches `returned` finds the event and the placement done
        await loop.run_in_executor(None, self._save)

    @staticmethod
    def _ref(repo: Path, ref: str) -> str | None:
        res = subprocess.run(["git", "-C", str(repo), "rev-parse", "-q", "--verify", ref], capture_output=True,
                             text=True, timeout=30)
        return res.stdout.strip() or None

    def _save(self) -> None:
        """`.runtime/nodes/gone.json`: the polecats given up with their nodes, until the nodes return."""
        path = gone_path(self.town)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, {"gone": {n: [g.record() for g in lst] for n, lst in self.gone.items() if lst},
                          "returned": self.returned[-100:]})
