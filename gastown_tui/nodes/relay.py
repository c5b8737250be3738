"""The town's side of a remote polecat's `gt` and `bd`: each relayed command runs in the town, as the
agent whose session the request came through, in that polecat's worktree in the town.

Identity comes from the session (the town bound it when it spawned the session), never from anything the
node sends, so a node cannot run `bd` as another agent; the node's cwd and environment are ignored.
`gt done` first brings the polecat's branch back from the node (nodes/git.py collect_into_worktree), then
runs the ordinary `done`, which pushes it to the rig's bare repo for the Refinery."""
from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from gastown_tui.nodes.git import collect_into_worktree
from gastown_tui.nodes.ssh import NodeError

TIMEOUT = 600.0
COLLECT_PATIENCE = 120.0  # `gt done` during a link cut: the branch is fetched once the node is reachable again
# The town's identity variables a relayed command must not inherit from the town's own process.
DROPPED = ("GT_AGENT", "BD_ACTOR", "GT_ROLE", "GT_RIG", "GT_SESSION_ID")


class TownRelay:
    def __init__(self, town_root: Path, node, local_worktrees: dict[str, Path] | None = None) -> None:
        self.town_root = Path(town_root)
        self.node = node
        self.local_worktrees = local_worktrees or {}
        self.ran: list[tuple[str, list[str], int]] = []  # (agent, argv, status), for the app and the tests

    async def _collect(self, worktree: Path, remote_worktree) -> str:
        """The polecat's branch from the node; a link cut meanwhile is waited out (COLLECT_PATIENCE)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + COLLECT_PATIENCE
        delay = 0.5
        while True:
            try:
                return await loop.run_in_executor(None, collect_into_worktree, self.node, worktree, remote_worktree)
            except NodeError:
                if loop.time() + delay > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(5.0, delay * 2)

    async def __call__(self, session, argv: list[str], node_cwd: str) -> tuple[int, bytes, bytes]:
        agent = session.agent
        if not argv or argv[0] not in ("gt", "bd"):
            return 3, b"", b"relay: only gt and bd are relayed\n"
        cwd = self.local_worktrees.get(agent) or getattr(session, "local_cwd", None) or self.town_root
        pre = b""
        if argv[:2] == ["gt", "done"] and getattr(session, "remote_worktree", None) is not None:
            sha = await self._collect(Path(cwd), session.remote_worktree)
            pre = f"collected {session.remote_worktree.branch} ({sha[:10]}) from node {self.node.name}\n".encode()
        env = {k: v for k, v in os.environ.items() if k not in DROPPED}
        env.update({"GT_TOWN": str(self.town_root), "GT_AGENT": agent, "BD_ACTOR": agent})
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gastown_tui.cli", *argv, cwd=str(cwd), env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            return 3, b"", f"relay: `{' '.join(argv)}` did not finish within {TIMEOUT:g}s\n".encode()
        self.ran.append((agent, list(argv), proc.returncode))
        return proc.returncode, pre + out, err
