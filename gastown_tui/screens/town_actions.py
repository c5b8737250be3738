"""Domain actions the screens offer, one function each, all called in worker threads.

Each runs inside the patrols' turn (`patrols.runner.patrol_turn`), so an action
never writes a ledger while a patrol run is using it.

Each looks its domain function up through `town_adapter.domain()`, so a
function that does not exist yet is reported as "not built yet: module:name".
The app holds no business logic: these only translate arguments.
"""
from __future__ import annotations

from pathlib import Path

from gastown_tui.screens.town_adapter import OVERSEER, domain


def _town(root: Path):
    return domain("gastown_tui.town.layout:Town")(root)


def approve(root: Path, mr_id: str) -> str:
    """Overseer approval: the Refinery merges this request now."""
    domain("gastown_tui.patrols.refinery:approve")(_town(root), mr_id, actor=OVERSEER)
    return f"{mr_id} approved: the Refinery merges it next"


def send_back(root: Path, mr_id: str, note: str) -> str:
    """Back to the polecat with a note (mailed; the work returns to its hook)."""
    domain("gastown_tui.patrols.refinery:send_back")(_town(root), mr_id, note, actor=OVERSEER)
    return f"{mr_id} sent back with your note"


def resling(root: Path, mr_id: str, target: str) -> str:
    agent = domain("gastown_tui.patrols.refinery:resling")(_town(root), mr_id, target, actor=OVERSEER)
    return f"{mr_id} superseded; its bead is now on {agent}'s hook"


def sling(root: Path, bead_id: str, target: str) -> str:
    result = domain("gastown_tui.town.sling:sling")(_town(root), bead_id, target, actor=OVERSEER)
    return f"{bead_id} slung to {result.agent}"


def nudge(root: Path, address: str, text: str, urgent: bool = False) -> str:
    enqueue = domain("gastown_tui.town.nudges:enqueue")
    enqueue(_town(root).runtime / "nudge_queue", address, text, sender=OVERSEER, urgent=urgent)
    return f"nudge queued for {address}"


def handoff(root: Path, address: str, note: str = "") -> str:
    domain("gastown_tui.town.handoff:request_handoff")(_town(root), address, note)
    return f"{address} handed off"


def mail_inbox(root: Path, address: str) -> list:
    return domain("gastown_tui.town.mail:inbox")(_town(root), address, include_archived=False)


def mail_thread(root: Path, mail_id: str) -> list:
    return domain("gastown_tui.town.mail:thread")(_town(root), mail_id)


def mail_send(root: Path, to: str, subject: str, body: str, reply_to: str | None = None,
              sender: str = OVERSEER) -> str:
    if reply_to:
        mail_id = domain("gastown_tui.town.mail:reply")(_town(root), reply_to, body, sender=sender, subject=subject)
        return f"reply to {to} sent ({mail_id})"
    ids = domain("gastown_tui.town.mail:send_mail")(_town(root), sender, to, subject, body)
    return f"mail to {to} sent ({', '.join(ids)})"


def mail_mark_read(root: Path, mail_id: str) -> None:
    domain("gastown_tui.town.mail:mark_read")(_town(root), mail_id)


def convoy_create(root: Path, title: str, bead_ids: list[str]) -> str:
    result = domain("gastown_tui.town.convoys:create_convoy")(_town(root), title, bead_ids)
    return f"convoy {result} created"


def convoy_add(root: Path, convoy_id: str, bead_ids: list[str]) -> str:
    domain("gastown_tui.town.convoys:add_to_convoy")(_town(root), convoy_id, bead_ids)
    return f"{len(bead_ids)} bead(s) added to {convoy_id}"


def convoy_close(root: Path, convoy_id: str) -> str:
    domain("gastown_tui.town.convoys:close_convoy")(_town(root), convoy_id)
    return f"convoy {convoy_id} closed"


def rig_add(root: Path, name: str, repo: str) -> str:
    domain("gastown_tui.town.rigs:add_rig")(_town(root), name, repo)
    return f"rig {name} added"


def polecat_spawn(root: Path, rig: str, name: str | None = None) -> str:
    result = domain("gastown_tui.town.polecats:spawn_polecat")(_town(root), rig, name=name)
    return f"polecat {result.address} spawned"


# -- beads: the ledger's own API (docs/contracts.md, beads) ----------------------------------------

def ledger_for(root: Path, bead_id: str | None = None, rig: str | None = None):
    town = _town(root)
    if bead_id:
        return domain("gastown_tui.town.ledgers:ledger_for_id")(town, bead_id)
    if rig:
        return domain("gastown_tui.town.ledgers:rig_ledger")(town, rig)
    return domain("gastown_tui.town.ledgers:town_ledger")(town)


def all_beads(root: Path) -> list:
    """Every live bead of every ledger in the town (town first, then rigs)."""
    beads = []
    for ledger in domain("gastown_tui.town.ledgers:all_ledgers")(_town(root)):
        beads.extend(ledger.all())
    return beads


def bead_create(root: Path, rig: str | None, title: str, **fields) -> str:
    issue = ledger_for(root, rig=rig).create(title, actor=OVERSEER, **fields)
    return issue.id


def bead_update(root: Path, bead_id: str, **fields) -> str:
    ledger_for(root, bead_id).update(bead_id, actor=OVERSEER, **fields)
    return f"{bead_id} updated"


def bead_close(root: Path, bead_id: str, reason: str | None = None) -> str:
    ledger_for(root, bead_id).close(bead_id, reason=reason, actor=OVERSEER)
    return f"{bead_id} closed"


def bead_comment(root: Path, bead_id: str, text: str) -> str:
    ledger_for(root, bead_id).add_comment(bead_id, text, OVERSEER)
    return f"comment added to {bead_id}"


def mr_diff(root: Path, mr_id: str) -> tuple[list, str]:
    """(files [(status, path)], unified diff) of a merge request."""
    return domain("gastown_tui.town.mq:mr_diff")(_town(root), mr_id)


def predecessors(root: Path, address: str) -> list:
    return domain("gastown_tui.town.seance:list_predecessors")(_town(root), address)


def transcript(root: Path, address: str, session_id: str | None = None, lines: int = 5000) -> str:
    session = domain("gastown_tui.town.seance:get_session")(_town(root), address, session_id)
    if session is None:
        return ""
    return domain("gastown_tui.town.seance:transcript_tail")(session, lines=lines)


# -- every action above runs in the patrols' turn ---------------------------------------------------

def _turn():
    """The patrols' turn (ledger objects are shared with the patrols' thread); a no-op without patrols."""
    import contextlib

    try:
        return domain("gastown_tui.patrols.runner:patrol_turn")()
    except Exception:
        return contextlib.nullcontext()


def _in_turn(fn):
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _turn():
            return fn(*args, **kwargs)

    return wrapper


for _name, _fn in list(globals().items()):
    if callable(_fn) and getattr(_fn, "__module__", None) == __name__ and not _name.startswith("_") \
            and _name not in ("domain", "ledger_for"):
        globals()[_name] = _in_turn(_fn)
