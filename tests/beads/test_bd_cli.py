"""`gastown bd` as users and agents run it: JSON on stdout, Rich tables, exit codes 0/1/2."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .bdrun import bd, bd_json


@pytest.fixture
def town(tmp_path):
    bd("init", "--prefix", "gt", cwd=tmp_path)
    return tmp_path


def test_init_create_show_list(town):
    new_id = bd("create", "Fix <login> & logout", "-p", "1", "-t", "bug", "-l", "auth,ui", "-a", "gastown/crew/max",
                "-d", "details", cwd=town).stdout.strip()
    assert new_id.startswith("gt-") and "\n" not in new_id
    shown = bd_json("show", new_id, cwd=town)
    assert shown["title"] == "Fix <login> & logout" and shown["priority"] == 1 and shown["labels"] == ["auth", "ui"]
    assert shown["created_by"] == "tester"
    created = bd_json("create", "Second", "--deps", new_id, cwd=town)
    assert created["dependencies"][0]["depends_on_id"] == new_id
    both = bd_json("show", new_id, created["id"], cwd=town)
    assert [b["id"] for b in both] == [new_id, created["id"]]
    listed = bd_json("list", cwd=town)
    assert sorted(r["id"] for r in listed) == sorted([new_id, created["id"]])
    assert bd_json("list", "--type", "bug", cwd=town)[0]["id"] == new_id
    assert bd_json("list", "--label", "ui", cwd=town)[0]["id"] == new_id
    assert bd_json("list", "--assignee", "gastown/crew/max", cwd=town)[0]["id"] == new_id
    human = bd("list", cwd=town).stdout
    assert "Fix <login> & logout" in human and "┃" in human          # a Rich table
    # Written in the canonical Go style.
    assert "\\u003clogin\\u003e \\u0026" in (town / ".beads" / "issues.jsonl").read_text()


def test_list_all_and_tombstones(tmp_path):
    beads = tmp_path / ".beads"
    beads.mkdir()
    base = {"priority": 2, "issue_type": "task", "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z"}
    recs = [dict(base, id="bd-a", title="open", status="open"), dict(base, id="bd-b", title="done", status="closed",
                                                                    closed_at="2026-01-02T00:00:00Z"),
            dict(base, id="bd-c", title="gone", status="tombstone")]
    (beads / "issues.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    assert [r["id"] for r in bd_json("list", cwd=tmp_path)] == ["bd-a"]
    assert [r["id"] for r in bd_json("list", "--all", cwd=tmp_path)] == ["bd-a", "bd-b"]
    assert [r["id"] for r in bd_json("list", "--status", "tombstone", cwd=tmp_path)] == ["bd-c"]


def test_ready_update_close_reopen(town):
    a = bd("create", "first", cwd=town).stdout.strip()
    b = bd("create", "second", "--deps", f"blocks:{a}", cwd=town).stdout.strip()
    assert [r["id"] for r in bd_json("ready", cwd=town)] == [a]
    assert b in bd("blocked", cwd=town).stdout
    assert bd_json("blocked", cwd=town)[0]["blocked_by"] == [a]
    upd = bd_json("update", a, "--status", "in_progress", "--assignee", "gastown/polecats/nux", "--priority", "0",
                  "--notes", "n", "--add-label", "x", "--add-label", "y", cwd=town)
    assert (upd["status"], upd["assignee"], upd["priority"], upd["labels"]) == ("in_progress",
                                                                                "gastown/polecats/nux", 0, ["x", "y"])
    assert bd_json("update", a, "--remove-label", "x", cwd=town)["labels"] == ["y"]
    closed = bd_json("close", a, "--reason", "done", cwd=town)
    assert closed["status"] == "closed" and closed["close_reason"] == "done"
    assert [r["id"] for r in bd_json("ready", cwd=town)] == [b]
    assert bd_json("reopen", a, cwd=town)["status"] == "open"
    assert bd("close", a, cwd=town).stdout.strip() == f"closed {a}"


def test_ready_claim_takes_the_first_and_never_twice(town):
    ids = [bd("create", f"w{n}", "-p", str(n), cwd=town).stdout.strip() for n in range(2)]
    first = bd_json("ready", "--claim", cwd=town, actor="gastown/polecats/a")
    assert first["id"] == ids[0] and first["status"] == "in_progress" and first["assignee"] == "gastown/polecats/a"
    second = bd_json("ready", "--claim", cwd=town, actor="gastown/polecats/b")
    assert second["id"] == ids[1]
    assert bd_json("ready", "--claim", cwd=town, actor="gastown/polecats/c") is None


def test_dep_label_comment_tree_stats(town):
    a = bd("create", "a", cwd=town).stdout.strip()
    b = bd("create", "b", cwd=town).stdout.strip()
    c = bd("create", "c", cwd=town).stdout.strip()
    bd("dep", "add", b, a, cwd=town)
    bd("dep", "add", c, b, "--type", "blocks", cwd=town)
    tree = bd_json("dep", "tree", c, cwd=town)
    assert tree["id"] == c and tree["children"][0]["id"] == b and tree["children"][0]["children"][0]["id"] == a
    assert bd_json("dep", "tree", a, "--reverse", cwd=town)["children"][0]["id"] == b
    assert a in bd("dep", "tree", c, cwd=town).stdout
    cyc = bd("dep", "add", a, c, cwd=town, check=False)
    assert cyc.returncode == 1 and f"{a} -> {c} -> {b} -> {a}" in cyc.stderr
    bd("dep", "remove", c, b, cwd=town)
    assert "dependencies" not in bd_json("show", c, cwd=town)
    assert bd_json("label", "add", a, "gt:agent", cwd=town)["labels"] == ["gt:agent"]
    assert "labels" not in bd_json("label", "remove", a, "gt:agent", cwd=town)
    com = bd_json("comment", "add", a, "looks good", cwd=town, actor="mayor/")
    assert com["text"] == "looks good" and com["author"] == "mayor/"
    stats = bd_json("stats", cwd=town)
    assert stats["total"] == 3 and stats["blocked"] == 1 and stats["by_type"] == {"task": 3}
    assert "duplicate ids resolved" in bd("stats", cwd=town).stdout


def test_user_errors_exit_1_with_one_line_and_usage_errors_exit_2(town):
    a = bd("create", "exists", cwd=town).stdout.strip()
    for args, fragment in [
        (("show", "gt-nope"), "unknown bead 'gt-nope'"),
        (("update", a, "--priority", "9"), "out of range"),
        (("create", "x" * 501), "the limit is 500"),
        (("update", a, "--status", "doing"), "status 'doing'"),
        (("update", a), "nothing to update"),
        (("close", "gt-nope"), "unknown bead"),
    ]:
        proc = bd(*args, cwd=town, check=False)
        assert proc.returncode == 1, args
        assert proc.stderr.count("\n") == 1 and fragment in proc.stderr, (args, proc.stderr)
        assert proc.stdout == ""
    nearest = bd("show", a[:-1] + ("0" if a[-1] != "0" else "1"), cwd=town, check=False)
    assert f"nearest: {a}" in nearest.stderr
    for args in [("frobnicate",), ("create",), ("ready", "--limit", "many"), ("dep",)]:
        assert bd(*args, cwd=town, check=False).returncode == 2


def test_ledger_found_upward_or_by_db(town, tmp_path_factory):
    sub = town / "deep" / "er"
    sub.mkdir(parents=True)
    new_id = bd("create", "from below", cwd=sub).stdout.strip()
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    assert bd("list", cwd=elsewhere, check=False).returncode == 1
    assert bd_json("show", new_id, "--db", town / ".beads", cwd=elsewhere)["id"] == new_id
    assert bd_json("show", new_id, "--db", town / ".beads" / "issues.jsonl", cwd=elsewhere)["id"] == new_id


def test_cli_path_never_imports_textual_or_pydantic(town):
    code = ("import sys; from gastown_tui.cli import main; sys.argv=['gastown','bd','create','x','--json']; main();"
            "sys.argv=['gastown','bd','ready','--json'];"
            "rc = main(); print('MODS', 'textual' in sys.modules, 'pydantic' in sys.modules, 'rich' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=town, capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "MODS False False False"


def test_update_claim(town):
    a = bd("create", "job", cwd=town).stdout.strip()
    got = bd_json("update", a, "--claim", "--notes", "mine now", cwd=town, actor="gastown/polecats/nux")
    assert (got["status"], got["assignee"], got["notes"]) == ("in_progress", "gastown/polecats/nux", "mine now")
    taken = bd("update", a, "--claim", cwd=town, actor="gastown/polecats/max", check=False)
    assert taken.returncode == 1 and "assigned to gastown/polecats/nux" in taken.stderr
