"""Mail (groups, read label, reply threads, archive) and convoys (progress, landing, owner mail)."""
from __future__ import annotations

import json

from gastown_tui.town.convoys import add_to_convoy, create_convoy, get_convoy, land_ready_convoys, list_convoys
from gastown_tui.town.mail import archive, inbox, read_mail, reply, send_mail, thread
from town_testkit import gastown, new_bead


def test_mail_groups_fan_out_one_bead_per_recipient(town, rig):
    from gastown_tui.town.ledgers import town_ledger

    ids = send_mail(town, "mayor/", "@rig/calc", "Standup", "What are you on?")
    assert len(ids) == 2  # witness and refinery: no polecats or crew yet
    for mid in ids:
        bead = town_ledger(town).get(mid)
        assert bead.issue_type == "message"
        assert {"gt:message", "from:mayor/", "msg-type:notification", "delivery:pending"} <= set(bead.labels)
    assert {town_ledger(town).get(m).assignee for m in ids} == {"calc/witness", "calc/refinery"}
    assert len(send_mail(town, "mayor/", "@witnesses", "Patrol", "")) == 1
    assert send_mail(town, "calc/witness", "@overseer", "FYI", "") and inbox(town, "overseer")[0].subject == "FYI"


def test_read_is_a_label_archive_closes_reply_threads(town, rig):
    mid = send_mail(town, "calc/witness", "mayor/", "HELP: stuck", "nux is stuck")[0]
    [m] = inbox(town, "mayor/")
    assert not m.read and m.sender == "calc/witness"
    assert read_mail(town, mid, "mayor/").read
    assert inbox(town, "mayor/")[0].read and inbox(town, "mayor/", unread_only=True) == []
    rid = reply(town, mid, "on it", sender="mayor/")
    [r] = inbox(town, "calc/witness")
    assert r.id == rid and r.subject == "Re: HELP: stuck" and r.reply_to == mid and r.thread_id == mid
    assert [x.id for x in thread(town, rid)] == [mid, rid]
    archive(town, mid, "mayor/")
    assert inbox(town, "mayor/") == []
    assert inbox(town, "mayor/", include_archived=True)[0].archived


def test_mail_cli_send_inbox_read_as_agent(town, rig):
    env = {"GT_AGENT": "calc/witness"}
    gastown("mail", "send", "mayor/", "-s", "Report", "-m", "all quiet", cwd=town.root, env=env)
    msgs = json.loads(gastown("mail", "inbox", "--json", cwd=town.root, env={"GT_AGENT": "mayor/"}).stdout)
    assert [(m["sender"], m["subject"], m["body"], m["read"]) for m in msgs] == [
        ("calc/witness", "Report", "all quiet", False)]
    out = gastown("mail", "read", msgs[0]["id"], cwd=town.root, env={"GT_AGENT": "mayor/"}).stdout
    assert "Subject: Report" in out and "all quiet" in out
    assert json.loads(gastown("mail", "inbox", "mayor/", "--json", cwd=town.root).stdout)[0]["read"] is True


def test_convoy_progress_and_landing_mails_owner(town, rig):
    from gastown_tui.town.events import read_events
    from gastown_tui.town.ledgers import rig_ledger

    a, b = new_bead(town, "calc", "A"), new_bead(town, "calc", "B")
    cid = create_convoy(town, "Pair", [a, b], owner="mayor/")
    info = get_convoy(town, cid)
    assert cid.startswith("hq-cv-") and (info.done, info.total, info.complete) == (0, 2, False)
    ledger = rig_ledger(town, "calc")
    ledger.close(a, reason="done")
    assert land_ready_convoys(town) == []
    assert get_convoy(town, cid).done == 1
    ledger.close(b, reason="done")
    assert land_ready_convoys(town) == [cid]
    assert get_convoy(town, cid).status == "closed"
    assert [m.subject for m in inbox(town, "mayor/")] == ["🚚 Convoy landed: Pair"]
    assert [e.payload["convoy"] for e in read_events(town.events_path, types={"convoy_landed"})] == [cid]
    assert land_ready_convoys(town) == [], "a landed convoy lands once"
    c = new_bead(town, "calc", "C")
    add_to_convoy(town, cid, [c])
    info = get_convoy(town, cid)
    assert info.status == "open" and (info.done, info.total) == (2, 3), "adding to a landed convoy reopens it"


def test_empty_convoy_is_not_complete(town, rig):
    cid = create_convoy(town, "Nothing yet", [])
    assert land_ready_convoys(town) == [] and get_convoy(town, cid).status == "open"
    assert [c.id for c in list_convoys(town)] == [cid]


def test_convoy_status_tree_cli(town, rig):
    a = new_bead(town, "calc", "Alpha")
    cid = create_convoy(town, "Tree", [a])
    out = gastown("convoy", "status", cid, cwd=town.root).stdout
    assert f"🚚 {cid}: Tree [open]  0/1 done" in out and f"└── ○ {a}: Alpha [open]" in out
    proc = gastown("convoy", "status", "hq-cv-nope", cwd=town.root, check=False)
    assert proc.returncode == 1 and "unknown convoy 'hq-cv-nope'" in proc.stderr


def test_convoy_with_unknown_bead_or_owner_is_refused(town, rig):
    from gastown_tui.errors import NotFound
    from gastown_tui.town.ledgers import town_ledger

    a = new_bead(town, "calc", "A")
    before = (town.root / ".beads" / "issues.jsonl").read_bytes()
    proc = gastown("convoy", "create", "Bad", a, a + "zz", cwd=town.root, check=False)
    assert proc.returncode == 1 and repr(a + "zz") in proc.stderr and a in proc.stderr
    import pytest

    with pytest.raises(NotFound, match="unknown address 'mayr/'"):
        create_convoy(town, "Bad owner", [a], owner="mayr/")
    assert (town.root / ".beads" / "issues.jsonl").read_bytes() == before
    assert town_ledger(town).list(issue_type="convoy") == []
