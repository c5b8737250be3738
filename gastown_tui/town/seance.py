"""`gastown seance`: an identity's predecessor sessions and their transcripts.

Sessions are written by the session manager under
`.runtime/sessions/<agent_key>/<session_id>/` (meta.json, transcript.txt, transcript.raw).
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from gastown_tui.errors import not_found
from gastown_tui.town.addresses import agent_key
from gastown_tui.town.layout import Town


@dataclass
class PastSession:
    session_id: str
    agent: str
    folder: str
    started_at: str | None
    ended_at: str | None
    exit_status: int | None
    preset: str | None
    has_transcript: bool
    pid: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def running(self) -> bool:
        """Not ended, and its recorded process is alive (in this process or another)."""
        if self.ended_at or self.exit_status is not None or not isinstance(self.pid, int):
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True


def list_predecessors(town: Town, address: str) -> list[PastSession]:
    """ADDRESS's sessions, newest first (what exists on disk; folders without meta.json included)."""
    root = town.sessions_dir(agent_key(address))
    if not root.is_dir():
        return []
    out = []
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        out.append(PastSession(folder.name, meta.get("agent", address), str(folder), meta.get("started_at"),
                               meta.get("ended_at"), meta.get("exit_status"), meta.get("preset"),
                               (folder / "transcript.txt").exists() or (folder / "transcript.raw").exists(),
                               meta.get("pid") if isinstance(meta.get("pid"), int) else None))
    return sorted(out, key=lambda s: (s.started_at or "", s.session_id), reverse=True)


def running_session(town: Town, address: str) -> PastSession | None:
    """ADDRESS's session that is still running according to its meta.json (any process), or None."""
    return next((s for s in list_predecessors(town, address) if s.running), None)


def get_session(town: Town, address: str, session_id: str | None = None) -> PastSession | None:
    sessions = list_predecessors(town, address)
    if not sessions:
        return None
    if session_id is None:
        return sessions[0]
    for s in sessions:
        if s.session_id == session_id or s.session_id.startswith(session_id):
            return s
    raise not_found("session", session_id, [s.session_id for s in sessions])


def transcript_tail(session: PastSession, lines: int = 40) -> str:
    """The last LINES lines of the session's plain-text transcript (or of the raw bytes, decoded)."""
    folder = Path(session.folder)
    text_path = folder / "transcript.txt"
    if text_path.exists():
        text = text_path.read_text(encoding="utf-8", errors="replace")
    elif (folder / "transcript.raw").exists():
        raw = (folder / "transcript.raw").read_bytes()[-256_000:]
        import re

        text = re.sub(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\r", "",
                      raw.decode("utf-8", errors="replace"))
    else:
        return ""
    return "\n".join(text.splitlines()[-lines:])
