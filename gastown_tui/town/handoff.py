"""`gastown handoff`: end this session; a fresh one continues with the same identity.

The note goes to the agent's own inbox ("🤝 HANDOFF: ..."), a marker
`.runtime/handoffs/<agent_key>.json` records that the session should be
replaced, and a `handoff` event is logged. In a running town (the app or
`gastown run --headless`) the `handoff` patrol (patrols/handoffs.py) acts on
the marker: it lets the session finish its turn, stops it politely, starts a
fresh session for the same identity with the start-up beacon, consumes the
marker with `consume_handoff` and logs `session_replaced`.

Cooldown (Gas Town's MinHandoffCooldown): a second handoff by the same agent
within `timers.handoff_cooldown` (settings/config.json, default 2m; "0s" turns
it off) is refused with the time left, and changes nothing. The last handoff's
time is kept in `.runtime/handoffs/last/<agent_key>.json` (the marker above is
cleared once acted on, so it cannot serve).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from gastown_tui.errors import UserError
from gastown_tui.town.addresses import agent_key
from gastown_tui.town.events import now_ts, append_event
from gastown_tui.town.jsonfile import read_json, write_json
from gastown_tui.town.layout import Town
from gastown_tui.filelock import file_lock
from gastown_tui.town.hooks import hooked_work
from gastown_tui.town.mail import send_mail, inbox
from gastown_tui.town.settings import TownSettings


def _marker(town: Town, address: str) -> Path:
    return town.runtime / "handoffs" / f"{agent_key(address)}.json"


class HandoffTooSoon(UserError):
    """A handoff within the cooldown of the previous one."""


def _last(town: Town, address: str) -> Path:
    return town.runtime / "handoffs" / "last" / f"{agent_key(address)}.json"


def handoff_cooldown(town: Town) -> float:
    """Seconds required between two handoffs of one agent (`timers.handoff_cooldown`)."""
    return TownSettings.load(town.settings_path).timer("handoff_cooldown")


def _check_cooldown(town: Town, address: str, now: float) -> None:
    cooldown = handoff_cooldown(town)
    last = read_json(_last(town, address), default={})
    if cooldown <= 0 or not isinstance(last, dict) or not isinstance(last.get("at"), (int, float)):
        return
    ago = now - last["at"]
    if 0 <= ago < cooldown:
        raise HandoffTooSoon(
            f"refusing handoff for {address}: its last handoff was {ago:.0f}s ago (at {last.get('requested_at')}); "
            f"handoffs must be at least {cooldown:g}s apart (timers.handoff_cooldown in {town.settings_path}). "
            f"Keep working and try again in {cooldown - ago:.0f}s.")


def request_handoff(town: Town, address: str, note: str = "", session_id: str | None = None,
                    now: float | None = None) -> dict:
    """Mails the note to ADDRESS itself, writes the marker, logs `handoff`; HandoffTooSoon within the cooldown."""
    now = time.time() if now is None else now
    with file_lock(town.runtime / "handoffs" / "last" / ".lock", what="handoff lock"):
        _check_cooldown(town, address, now)
        marker = _request(town, address, note, session_id)
        write_json(_last(town, address), {"at": now, "requested_at": marker["requested_at"],
                                          "mail_id": marker["mail_id"]})
    return marker


def _request(town: Town, address: str, note: str, session_id: str | None) -> dict:
    hook = hooked_work(town, address) if address != "overseer" else None
    first = (note.strip().splitlines() or ["session handoff"])[0][:80]
    body = note.strip()
    if hook is not None:
        body += f"\n\nHook: {hook.id} — {hook.title}"
    mail_id = send_mail(town, address, address, f"🤝 HANDOFF: {first}", body.strip())[0]
    marker = {"address": address, "requested_at": now_ts(), "note": note, "mail_id": mail_id,
              "session_id": session_id or os.environ.get("GT_SESSION_ID"), "hook": hook.id if hook else None}
    write_json(_marker(town, address), marker)
    append_event(town.events_path, "handoff", address, agent=address, mail=mail_id, hook=marker["hook"])
    return marker


def pending_handoff(town: Town, address: str) -> dict | None:
    """The handoff request waiting for the session manager, or None."""
    path = _marker(town, address)
    return read_json(path) if path.exists() else None


def clear_handoff(town: Town, address: str) -> None:
    _marker(town, address).unlink(missing_ok=True)


def pending_handoffs(town: Town) -> list[tuple[Path, dict | None, str | None]]:
    """Every waiting marker as (path, marker, error), oldest file first. A marker that cannot be read
    (bad JSON, no address) has marker None and the error naming the file; it is left where it is."""
    folder = town.runtime / "handoffs"
    out: list[tuple[Path, dict | None, str | None]] = []
    paths = sorted(folder.glob("*.json"), key=lambda p: (_mtime(p), p.name)) if folder.is_dir() else []
    for path in paths:
        try:
            marker = read_json(path, default={})
        except UserError as exc:
            out.append((path, None, str(exc)))
            continue
        if not isinstance(marker, dict) or not isinstance(marker.get("address"), str) or not marker["address"]:
            out.append((path, None, f"{path}: not a handoff marker (expected an object with an \"address\")"))
            continue
        out.append((path, marker, None))
    return out


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def consume_handoff(town: Town, address: str, requested_at: str | None) -> bool:
    """Removes ADDRESS's marker if it is still the request made at REQUESTED_AT (a newer one stays).
    True when it was removed."""
    path = _marker(town, address)
    try:
        current = read_json(path, default={})
    except UserError:
        current = {}
    if not path.exists() or (isinstance(current, dict) and current.get("requested_at") != requested_at):
        return False
    path.unlink(missing_ok=True)
    return True


def pending_handoff_note(town: Town, address: str) -> str | None:
    """The newest unread handoff note for ADDRESS (what `prime` shows a successor)."""
    for m in inbox(town, address):
        if not m.read and m.subject.startswith("🤝 HANDOFF"):
            return f"{m.subject}\n{m.body}".strip()
    return None
