"""`gastown handoff`: end this session; a fresh one continues with the same identity.

The note goes to the agent's own inbox ("🤝 HANDOFF: ..."), a marker
`.runtime/handoffs/<agent_key>.json` records that the session should be
replaced (the session manager acts on it and clears it), and a `handoff`
event is logged.
"""
from __future__ import annotations

import os

from gastown_tui.town.addresses import agent_key
from gastown_tui.town.events import now_ts
from gastown_tui.town.jsonfile import read_json, write_json
from gastown_tui.town.layout import Town


def _marker(town: Town, address: str):
    return town.runtime / "handoffs" / f"{agent_key(address)}.json"


def request_handoff(town: Town, address: str, note: str = "", session_id: str | None = None) -> dict:
    from gastown_tui.town.events import append_event
    from gastown_tui.town.hooks import hooked_work
    from gastown_tui.town.mail import send_mail

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


def pending_handoff_note(town: Town, address: str) -> str | None:
    """The newest unread handoff note for ADDRESS (what `prime` shows a successor)."""
    from gastown_tui.town.mail import inbox

    for m in inbox(town, address):
        if not m.read and m.subject.startswith("🤝 HANDOFF"):
            return f"{m.subject}\n{m.body}".strip()
    return None
