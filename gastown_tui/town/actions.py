"""The app's actions, with the exact signatures it asked for (docs/contracts.md, 'Read model and actions').

Each is one call into the domain function the CLI uses too.
"""
from __future__ import annotations

from pathlib import Path

from gastown_tui.town.layout import Town


def mail_inbox(town: Town, address: str):
    from gastown_tui.town.mail import inbox

    return inbox(town, address)


def mail_thread(town: Town, mail_id: str):
    from gastown_tui.town.mail import thread

    return thread(town, mail_id)


def mail_send(town: Town, sender: str, to: str, subject: str, body: str, reply_to: str | None = None) -> str:
    from gastown_tui.town.mail import reply, send_mail

    if reply_to:
        return reply(town, reply_to, body, sender=sender, subject=subject or None)
    return send_mail(town, sender, to, subject, body)[0]


def mail_mark_read(town: Town, mail_id: str) -> None:
    from gastown_tui.town.mail import mark_read

    mark_read(town, mail_id, "overseer")


def sling(town: Town, bead_id: str, target: str) -> str:
    from gastown_tui.town.sling import sling as do_sling

    return do_sling(town, bead_id, target, actor="overseer").agent


def convoy_create(town: Town, title: str, bead_ids: list[str]) -> str:
    from gastown_tui.town.convoys import create_convoy

    return create_convoy(town, title, bead_ids, owner="overseer", actor="overseer")


def convoy_add(town: Town, convoy_id: str, bead_ids: list[str]) -> None:
    from gastown_tui.town.convoys import add_to_convoy

    add_to_convoy(town, convoy_id, bead_ids, actor="overseer")


def convoy_close(town: Town, convoy_id: str) -> None:
    from gastown_tui.town.convoys import close_convoy

    close_convoy(town, convoy_id, actor="overseer")


def rig_add(town: Town, name: str, repo_path: str | Path):
    from gastown_tui.town.rigs import add_rig

    return add_rig(town, name, str(repo_path))


def polecat_spawn(town: Town, rig: str, name: str | None = None) -> str:
    from gastown_tui.town.polecats import spawn_polecat

    return spawn_polecat(town, rig, name=name).address


def mr_diff(town: Town, mr_id: str):
    from gastown_tui.town.mq import mr_diff as diff

    return diff(town, mr_id)


def handoff(town: Town, address: str, note: str = "") -> dict:
    from gastown_tui.town.handoff import request_handoff

    return request_handoff(town, address, note)
