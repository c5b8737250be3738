"""`gastown seance`: an identity's predecessor sessions and their transcripts.

Sessions are written by the session manager under
`.runtime/sessions/<agent_key>/<session_id>/` (meta.json, transcript.txt, transcript.raw).
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from gastown_tui.errors import not_found
from gastown_tui.timestamps import to_unix
from gastown_tui.town.addresses import agent_key, parse_address
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


# ---- the agent CLI's own conversation log ---------------------------------------------------------
# Claude Code keeps `<CLAUDE_CONFIG_DIR>/projects/<cwd>/<session-uuid>.jsonl`, Codex
# `<CODEX_HOME>/sessions/YYYY/MM/DD/rollout-*.jsonl`; both live in the agent's home
# (`.runtime/homes/<agent_key>/`, sessions/homes.py). These hold what was said whole, also for a
# CLI drawing on the alternate screen, whose screen text is gone when it exits.


@dataclass
class Turn:
    role: str  # user | assistant | tool
    text: str


def _when(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return to_unix(iso)
    except (ValueError, TypeError):
        return None


def conversation_log(town: Town, session: PastSession) -> tuple[Path, list[Turn]] | None:
    """The CLI's own log of SESSION's conversation (the file, its turns), or None when there is none.
    The log written during the session is chosen: modified after it started, and the one whose last
    write is nearest its end."""
    home = town.home_dir(agent_key(session.agent))
    started = _when(session.started_at) or 0.0
    ended = _when(session.ended_at)
    found = []
    for pattern, reader in (((".claude", "projects", "*", "*.jsonl"), _claude_turns),
                            ((".codex", "sessions", "*", "*", "*", "rollout-*.jsonl"), _codex_turns)):
        for path in home.glob("/".join(pattern)):
            try:
                mtime = path.stat().st_mtime
            except OSError:
                continue
            if mtime + 1 < started or (ended is not None and mtime > ended + 120):
                continue
            found.append((abs((ended or mtime) - mtime), -mtime, path, reader))
    for _, _, path, reader in sorted(found, key=lambda f: (f[0], f[1])):
        turns = reader(path)
        if turns:
            return path, turns
    return None


def _jsonl(path: Path) -> Iterator[dict]:
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue  # a line being written, or a foreign one: the rest still reads
                if isinstance(rec, dict):
                    yield rec
    except OSError:
        return


def _claude_turns(path: Path) -> list[Turn]:
    out = []
    for rec in _jsonl(path):
        if rec.get("type") not in ("user", "assistant") or rec.get("isMeta"):
            continue
        msg = rec.get("message") or {}
        content = msg.get("content")
        if isinstance(content, str):
            if not content.startswith("<"):
                out.append(Turn(rec["type"], content))
            continue
        for block in content or []:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "text" and not str(block.get("text", "")).startswith("<"):
                out.append(Turn(rec["type"], block["text"]))
            elif kind == "tool_use":
                args = block.get("input") or {}
                what = args.get("command") or args.get("file_path") or json.dumps(args)[:200]
                out.append(Turn("tool", f"{block.get('name')}: {what}"))
            elif kind == "tool_result":
                res = block.get("content")
                if isinstance(res, list):
                    res = " ".join(str(b.get("text", "")) for b in res if isinstance(b, dict))
                out.append(Turn("tool", f"-> {str(res)[:500]}"))
    return out


def _codex_turns(path: Path) -> list[Turn]:
    out = []
    for rec in _jsonl(path):
        if rec.get("type") != "response_item":
            continue
        p = rec.get("payload") or {}
        if p.get("type") == "message" and p.get("role") in ("user", "assistant"):
            for block in p.get("content") or []:
                text = str(block.get("text", "")) if isinstance(block, dict) else ""
                if text and not text.startswith("<"):
                    out.append(Turn(p["role"], text))
        elif p.get("type") == "function_call":
            out.append(Turn("tool", f"{p.get('name')}: {str(p.get('arguments', ''))[:300]}"))
        elif p.get("type") == "function_call_output":
            out.append(Turn("tool", f"-> {str(p.get('output', ''))[-500:]}"))
    return out


def format_turns(turns: list[Turn], last: int = 20) -> str:
    return "\n".join(f"{t.role}: {t.text}" for t in turns[-last:])


def recorded_address(town: Town, text: str) -> str | None:
    """TEXT as the address of an agent that has sessions on disk (a reaped polecat is no longer in the
    town's agents, but its transcripts stay), or None."""
    candidates = []
    try:
        candidates.append(str(parse_address(text)))
    except ValueError:
        pass
    rig, sep, name = text.partition("/")
    if sep and name and "/" not in name:
        candidates += [f"{rig}/polecats/{name}", f"{rig}/crew/{name}"]
    for cand in candidates:
        try:
            if town.sessions_dir(agent_key(cand)).is_dir():
                return cand
        except ValueError:
            continue
    return None
