"""A restarted town server re-adopts the programs an earlier server of the same town runs on its nodes
(docs/nodes.md, "A restarted town re-adopts its nodes' programs").

Durable state: while a remote session runs, the town keeps one record of it in
`.runtime/nodes/sessions/<sid>.json` (written atomically when the node has started it, removed when it
ends, is stopped, or is given up): the node, the session id, the agent, its spec and preset, its
transcript folder, the pid on the node, and its worktrees. The byte position is not stored: it is the
length of the session's raw transcript (`sessions.transcript.raw_length`), so a stream resumes from the
byte the town already has on disk — bytes the killed server had read but not written are simply sent
again by the node, and none twice.

When a town server starts (also after `gastown up --upgrade` or a `kill -9` and the keeper's restart),
the session manager asks the node provider to adopt (`adopt_sessions`): each record becomes a
`RemoteSession` at once (the screen rebuilt from the transcript's tail; keys refused and nudges waiting
until its link is up), and each node's link connects in the background with the town's proof
(nodes/town_identity.py). The node daemon hands over the sessions the town claims (same pids), sends each
one's output from the town's byte on, and hangs up whatever of this town's programs no record claims.
A node that does not answer is a link that is down: the grace (nodes/grace.py) decides as for any other.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict
from pathlib import Path

from gastown_tui.sessions.adoption import keeper_record

log = logging.getLogger(__name__)


def records_dir(town_root: Path) -> Path:
    return Path(town_root) / ".runtime" / "nodes" / "sessions"


def _record_path(town_root: Path, sid: str) -> Path:
    return records_dir(town_root) / f"{sid}.json"


def record_of(session) -> dict:
    """What a later server needs to take SESSION (a started RemoteSession) over."""
    wt = session.remote_worktree
    return {**keeper_record(session), "node": session.node, "sid": session.sid, "remote_pid": session.remote_pid,
            "relay": session.relay, "local_cwd": str(session.local_cwd) if session.local_cwd else None,
            "remote_worktree": asdict(wt) if wt is not None else None,
            "nudge": getattr(session, "nudge_mark", None)}  # a nudge being typed (nodes/nudge_resume.py)


def save_record(town_root: Path, session) -> None:
    """The record replaced at once, on the caller's thread (the loop: a small file to the page cache, no
    fsync), 0600 in a 0700 folder (the spec's environment is in it). It survives the server being killed,
    which is what it is for; a power cut takes the node link's programs' town with it anyway."""
    path = _record_path(town_root, session.sid)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, (json.dumps(record_of(session), ensure_ascii=False) + "\n").encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


def drop_record(town_root: Path, sid: str) -> None:
    try:
        _record_path(town_root, sid).unlink()
    except FileNotFoundError:
        pass


def load_records(town_root: Path) -> list[dict]:
    """Every recorded remote session; a file that cannot be read is logged, named and skipped (its program,
    unclaimed, is hung up by its node)."""
    folder = records_dir(town_root)
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(rec, dict) or not rec.get("sid") or not rec.get("node") or not rec.get("agent"):
                raise ValueError("not a remote session record (needs sid, node and agent)")
        except (OSError, ValueError) as exc:
            log.warning("%s: skipped, cannot re-adopt that session: %s", path, exc)
            continue
        out.append(rec)
    return out
