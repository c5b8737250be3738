"""Costs from agent records: sums per bead/convoy/agent, incremental reads, unknown prices and broken records."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from .records import write_claude, write_codex, write_gemini

NOW = time.time()


def gastown(town: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gastown_tui.cli", *args], cwd=town, capture_output=True,
                          text=True, env={**os.environ, "GT_TOWN": str(town)}, timeout=60)


def event(town: Path, ts: float, kind: str, **payload) -> None:
    from .records import iso

    with (town / ".events.jsonl").open("a") as fh:
        fh.write(json.dumps({"ts": iso(ts), "source": "gt", "type": kind, "actor": "t", "payload": payload}) + "\n")


@pytest.fixture
def town(tmp_path):
    from gastown_tui.town.install import install_town

    return install_town(tmp_path / "town").root


def home(town: Path, key: str) -> Path:
    return town / ".runtime" / "homes" / key


def test_costs_by_bead_and_convoy_add_up_what_each_cli_recorded_while_the_bead_was_hooked(town):
    a, b = "rig/polecats/nux", "rig/polecats/max"
    event(town, NOW - 100, "convoy_created", convoy="hq-cv-1", beads=["rig-1", "rig-2"])
    event(town, NOW - 90, "hook", agent=a, bead="rig-1")
    event(town, NOW - 90, "hook", agent=b, bead="rig-2")
    event(town, NOW - 50, "unhook", agent=a, bead="rig-1", reason="done")
    event(town, NOW - 40, "hook", agent=a, bead="rig-3")
    write_claude(home(town, "rig--polecats--nux"), "p", "s1",
                 [{"ts": NOW - 80, "input": 10, "output": 5, "cache_write": 3, "cache_read": 7},
                  {"ts": NOW - 60, "input": 20, "output": 6, "cache_write": 0, "cache_read": 1}])
    write_claude(home(town, "rig--polecats--nux"), "p", "s2", [{"ts": NOW - 30, "input": 100, "output": 1}])
    write_codex(home(town, "rig--polecats--max"), "c1", [{"ts": NOW - 70, "input": 40, "output": 4, "cache_read": 9}])
    write_gemini(home(town, "rig--polecats--max"), "g1", [{"ts": NOW - 20, "input": 8, "output": 2, "cache_read": 1}])
    out = gastown(town, "costs", "--by", "bead", "--json")
    assert out.returncode == 0, out.stderr
    rows = {r["bead"]: r for r in json.loads(out.stdout)["rows"]}
    assert {k: (r["input"], r["output"], r["cache_write"], r["cache_read"], r["calls"]) for k, r in rows.items()} == {
        "rig-1": (30, 11, 3, 8, 2), "rig-2": (48, 6, 0, 10, 2), "rig-3": (100, 1, 0, 0, 1)}
    convoys = {r["convoy"]: r for r in json.loads(gastown(town, "costs", "--by", "convoy", "--json").stdout)["rows"]}
    assert convoys["hq-cv-1"]["tokens"] == 30 + 11 + 3 + 8 + 48 + 6 + 10 and convoys["(no convoy)"]["tokens"] == 101
    # claude-opus-4-8 is priced, the codex and gemini models too; the sum is exact dollars
    agents = {r["agent"]: r for r in json.loads(gastown(town, "costs", "--by", "agent", "--json").stdout)["rows"]}
    assert agents[a]["usd"] == pytest.approx((130 * 5 + 12 * 25 + 3 * 6.25 + 8 * 0.5) / 1e6)
    from .records import iso

    recent = json.loads(gastown(town, "costs", "--by", "bead", "--since", iso(NOW - 45), "--json").stdout)
    assert {r["bead"]: r["tokens"] for r in recent["rows"]} == {"rig-3": 101, "rig-2": 11}
    bad = gastown(town, "costs", "--since", "last tuesday")
    assert bad.returncode == 1 and "--since" in bad.stderr and "last tuesday" in bad.stderr
    text = gastown(town, "costs", "--by", "role").stdout
    assert "polecat" in text and "TOTAL" in text


def test_an_unknown_model_shows_its_tokens_with_price_unknown_never_zero_and_broken_records_are_reported(town):
    path = write_claude(home(town, "mayor"), "p", "s1", [{"ts": NOW - 10, "input": 10, "output": 5,
                                                         "model": "someones-own-model"}])
    with path.open("a") as fh:
        fh.write('{"type":"assistant","timestamp":"2026-12-07T10:00:00Z","message":{"id":"m9","usage":'
                 '{"input_tokens":"lots","output_tokens":1}}}\n')
        fh.write('{"type":"assistant", "message": {"usage": \n')       # a torn line in the middle
        fh.write("not json at all but mentions \"usage\"\n")
    out = json.loads(gastown(town, "costs", "--json").stdout)
    row = out["rows"][0]
    assert row["tokens"] == 15 and row["usd"] is None and row["price"] == "unknown"
    assert out["unknown_records"] == 3 and all(str(path) in p for p in out["problems"])
    assert any(":4: unreadable usage record (not a token count" in p for p in out["problems"]), out["problems"]
    text = gastown(town, "costs").stdout
    assert "price unknown" in text and "3 usage record(s) could not be read" in text and "$0" not in text


def test_prices_can_be_overridden_in_settings_and_a_bad_override_is_one_clear_error(town):
    write_codex(home(town, "rig--polecats--nux"), "c1", [{"ts": NOW - 5, "input": 1_000_000, "output": 0}],
                model="fake-model")
    settings = town / "settings" / "config.json"
    data = json.loads(settings.read_text()) if settings.exists() else {}
    data["prices"] = {"fake-*": {"input": 2.0, "output": 4.0}}
    settings.write_text(json.dumps(data))
    out = json.loads(gastown(town, "costs", "--json").stdout)
    assert out["total"]["usd"] == pytest.approx(2.0) and out["total"]["price"] == "known"
    data["prices"] = {"fake-*": {"input": "cheap"}}
    settings.write_text(json.dumps(data))
    bad = gastown(town, "costs")
    assert bad.returncode == 1 and str(settings) in bad.stderr and "fake-*" in bad.stderr


def test_a_second_scan_reads_only_the_new_records(town, monkeypatch):
    from gastown_tui.costs import reader as reader_mod
    from gastown_tui.costs.reader import CostReader

    h = home(town, "rig--polecats--nux")
    write_claude(h, "p", "s1", [{"ts": NOW - 9, "input": 1, "output": 1}])
    write_claude(h, "p", "s2", [{"ts": NOW - 8, "input": 2, "output": 1}])
    r = CostReader(town)
    assert sorted(u.input for u in r.scan()[0]) == [1, 2]
    decoded: list[dict] = []

    class Spy:      # the reader's JSON decoder, noting every line it decodes
        JSONDecodeError = orjson.JSONDecodeError

        @staticmethod
        def loads(raw):
            got = orjson.loads(raw)
            decoded.extend(got if raw.startswith(b"[") else [got])
            return got

    monkeypatch.setattr(reader_mod, "orjson", Spy)
    assert sorted(u.input for u in r.scan()[0]) == [1, 2] and decoded == []
    path = write_claude(h, "p", "s1", [{"ts": NOW - 1, "input": 5, "output": 1}])
    with path.open("a") as fh:
        fh.write('{"type":"assistant","message":')     # half a line: read when complete
    assert sorted(u.input for u in r.scan()[0]) == [1, 2, 5]
    # only the new call's lines were decoded (its two lines, one per content block with the same usage);
    # the user line holds no usage and was not decoded at all
    assert [(d["type"], d["message"]["usage"]["input_tokens"]) for d in decoded] == [("assistant", 5)] * 2


async def test_a_patrol_run_costs_nothing(tmp_path):
    from gastown_tui.costs.report import spend_summary
    from gastown_tui.patrols.runtime import TownRuntime
    from gastown_tui.patrols.settings import PatrolSettings
    from gastown_tui.town.events import read_events

    from patrols.townkit import make_town

    town, rig = make_town(tmp_path)
    rt = TownRuntime(town.root, settings=PatrolSettings(backoff_base=0.5, backoff_max=2.0, disabled=["dogs", "boot"]))
    await rt.start()
    try:
        end = time.monotonic() + 30
        while time.monotonic() < end and not {"deacon", "witness", "refinery"} <= {
                e.actor for e in read_events(town.events_path, types={"patrol_run"})}:
            await __import__("asyncio").sleep(0.1)
    finally:
        await rt.stop()
    ran = {e.actor for e in read_events(town.events_path, types={"patrol_run"})}
    assert {"deacon", "witness", "refinery"} <= ran, ran
    out = json.loads(gastown(town.root, "costs", "--by", "role", "--json").stdout)
    assert out["rows"] == [] and out["total"]["tokens"] == 0 and out["total"]["usd"] == 0.0
    assert spend_summary(town.root)["today"] == "$0.00"


def test_lines_repeating_one_record_count_once_the_last_one_winning_and_other_keys_count_apart(town):
    """Claude Code writes one line per content block with the same usage; a line repeating a message id and
    request id replaces the earlier one (its usage is the one counted), a new request id is a new call."""
    from costs.records import claude_lines

    from gastown_tui.costs.book import CostBook

    h = home(town, "rig--polecats--nux")
    first = claude_lines("s1", [{"ts": NOW - 9, "input": 1, "output": 1}])
    again = [line.replace('"input_tokens":1,', '"input_tokens":7,') for line in first]
    retried = [line.replace('"requestId":"req_', '"requestId":"retry_') for line in first]
    path = h / ".claude" / "projects" / "p" / "s1.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("".join(line + "\n" for line in first + again + retried))
    entries, problems = CostBook(town).entries()
    assert not problems
    assert sorted(e.usage.input for e in entries) == [1, 7]      # the repeat's 7 replaced the first 1; the retry counts


def test_a_broken_line_repeating_a_record_is_reported_and_the_sound_line_of_the_record_still_counts(town):
    """Claude Code writes a call's usage on each content block's line: when one of them is broken (a torn write),
    the call still counts once, from a sound line, and the broken line is reported with its line number."""
    from costs.records import claude_lines

    from gastown_tui.costs.book import CostBook

    h = home(town, "rig--polecats--nux")
    lines = claude_lines("s1", [{"ts": NOW - 9, "input": 4, "output": 1}, {"ts": NOW - 8, "input": 6, "output": 1}])
    assert len(lines) == 6 and '"usage"' in lines[2]
    lines[2] = lines[2][: len(lines[2]) // 2]         # the first call's second (last) line, torn
    path = h / ".claude" / "projects" / "p" / "s1.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("".join(line + "\n" for line in lines))
    entries, problems = CostBook(town).entries()
    assert sorted(e.usage.input for e in entries) == [4, 6]
    assert [(p.path, p.line) for p in problems] == [(str(path), 3)] and "unreadable usage record" in problems[0].reason
