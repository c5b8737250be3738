"""graph.ready remembers its answer on the index (the town server answers repeated `bd ready` calls from
it), and that answer is always the one a fresh computation gives: a change to the ledger forgets it, and so
does the clock reaching the moment a bead stops being recent or a deferral ends."""
from __future__ import annotations

from gastown_tui.beads import graph
from gastown_tui.beads.blocked import BlockedIndex
from gastown_tui.timestamps import format_ns

HOUR = 3600 * 1_000_000_000
T0 = 1_900_000_000 * 1_000_000_000  # a fixed "now" (2030)


def rec(rid, created_ns, priority=2, **extra):
    return {"id": rid, "title": rid, "status": "open", "priority": priority, "issue_type": "task",
            "created_at": format_ns(created_ns), **extra}


def fresh(index, now):
    return [r["id"] for r in graph.ready(index.records, index, now=now)]


def test_a_repeated_call_is_answered_from_memory_until_the_ledger_changes(monkeypatch):
    clock = [T0]
    monkeypatch.setattr(graph, "now_ns", lambda: clock[0])
    records = {f"bd-{n}": rec(f"bd-{n}", T0 - 100 * HOUR - n, priority=n % 4) for n in range(50)}
    index = BlockedIndex(records)
    first = graph.ready(index.records, index, limit=10)
    assert index.memo  # remembered
    again = graph.ready(index.records, index, limit=10)
    assert again == first and again is not first  # a copy: the caller may change its list
    index.apply("bd-new", rec("bd-new", T0 - HOUR, priority=0))  # a new recent bead goes first
    assert not index.memo
    after = [r["id"] for r in graph.ready(index.records, index, limit=10)]
    assert after[0] == "bd-new" and after == fresh(index, clock[0])[:10]


def test_the_answer_changes_when_a_bead_stops_being_recent(monkeypatch):
    clock = [T0]
    monkeypatch.setattr(graph, "now_ns", lambda: clock[0])
    records = {"bd-old": rec("bd-old", T0 - 100 * HOUR), "bd-new": rec("bd-new", T0 - 47 * HOUR, priority=4)}
    index = BlockedIndex(records)
    assert [r["id"] for r in graph.ready(index.records, index)] == ["bd-new", "bd-old"]  # recent first
    clock[0] = T0 + HOUR + 1  # bd-new is 48 h old now: by age, it is the younger one
    assert [r["id"] for r in graph.ready(index.records, index)] == ["bd-old", "bd-new"] == fresh(index, clock[0])


def test_a_deferred_bead_shows_when_its_time_comes(monkeypatch):
    clock = [T0]
    monkeypatch.setattr(graph, "now_ns", lambda: clock[0])
    records = {"bd-a": rec("bd-a", T0 - 100 * HOUR),
               "bd-later": rec("bd-later", T0 - 200 * HOUR, defer_until=format_ns(T0 + 10 * HOUR))}
    index = BlockedIndex(records)
    assert [r["id"] for r in graph.ready(index.records, index)] == ["bd-a"]
    clock[0] = T0 + 9 * HOUR
    assert [r["id"] for r in graph.ready(index.records, index)] == ["bd-a"]
    clock[0] = T0 + 10 * HOUR
    assert [r["id"] for r in graph.ready(index.records, index)] == ["bd-later", "bd-a"] == fresh(index, clock[0])


def test_a_remembered_list_follows_changes_made_here_and_by_another_process(tmp_path):
    from gastown_tui.beads import Ledger

    here = Ledger.init(tmp_path / ".beads", "bd")
    bead = here.create("work")
    assert here.raw_list(status="hooked", assignee="rig/polecats/nux") == []
    here.update(bead.id, status="hooked", assignee="rig/polecats/nux")
    assert [r["id"] for r in here.raw_list(status="hooked", assignee="rig/polecats/nux")] == [bead.id]
    other = Ledger.open(tmp_path / ".beads")  # another process's view: it writes the file
    other.update(bead.id, status="open", assignee="")
    assert here.raw_list(status="hooked", assignee="rig/polecats/nux") == []
    listed = here.raw_list()
    listed.append("mine")  # the caller's own list
    assert "mine" not in here.raw_list()
