"""The cost cache (costs/cache.py) a server leaves for the next process: the same records as reading every
file, whatever happened to the files since (appended, truncated, rewritten in place, replaced, deleted),
and no trust in a cache that is broken or was written by other code."""
from __future__ import annotations

import os
import time
from pathlib import Path

import orjson
import pytest

from .records import claude_lines, write_claude, write_codex, write_gemini

NOW = time.time()


def calls(n: int, base: int, ts: float = NOW - 3600) -> list[dict]:
    return [{"ts": ts + i, "input": base + i, "output": 7, "cache_write": 3, "cache_read": 11} for i in range(n)]


@pytest.fixture
def town(tmp_path) -> Path:
    homes = tmp_path / ".runtime" / "homes"
    write_claude(homes / "rig--polecats--nux", "p", "s1", calls(3, 100))
    write_claude(homes / "rig--polecats--nux", "p", "s2", calls(2, 200))
    write_codex(homes / "rig--polecats--max", "c1", calls(3, 300))
    write_gemini(homes / "rig--witness", "g1", calls(2, 400))
    return tmp_path


def fresh(town: Path) -> tuple[list, list]:
    """What reading every file from the start gives (no cache): the truth the cache must keep to."""
    from gastown_tui.costs.reader import CostReader

    return snapshot(*CostReader(town, cache=False).scan())


def snapshot(records, problems) -> tuple[list, list]:
    return (sorted((u.cli, u.agent_key, u.session, u.ts, u.model, u.input, u.output, u.cache_write, u.cache_read)
                   for u in records), sorted(str(p) for p in problems))


def leave_cache(town: Path, monkeypatch) -> Path:
    """A reader that lived long enough (a server's) writes the cache when it read something new."""
    from gastown_tui.costs import reader as reader_mod

    monkeypatch.setattr(reader_mod, "SAVE_EVERY", 0.0)
    r = reader_mod.CostReader(town)
    r.scan()
    monkeypatch.setattr(reader_mod, "SAVE_EVERY", 60.0)
    path = town / ".runtime" / "costs-cache.json"
    assert path.is_file(), "the long-lived reader wrote no cache"
    return path


def from_cache(town: Path) -> tuple[list, list]:
    from gastown_tui.costs.reader import CostReader

    return snapshot(*CostReader(town).scan())


def test_a_new_process_takes_the_cache_and_reads_no_file_that_did_not_change(town, monkeypatch):
    from gastown_tui.costs import reader as reader_mod
    from gastown_tui.costs.reader import CostReader

    truth = fresh(town)
    leave_cache(town, monkeypatch)
    decoded: list = []

    class Spy:      # the reader's JSON decoder, noting every line it decodes
        JSONDecodeError = orjson.JSONDecodeError

        @staticmethod
        def loads(raw):
            decoded.append(raw)
            return orjson.loads(raw)

    monkeypatch.setattr(reader_mod, "orjson", Spy)
    assert snapshot(*CostReader(town).scan()) == truth and decoded == []
    # a one-shot reader (`gastown costs`) reads what is new but never writes the cache: it stays as the server
    # left it (writing it would slow every cold read down)
    cache = town / ".runtime" / "costs-cache.json"
    before = cache.read_bytes()
    write_claude(town / ".runtime" / "homes" / "rig--polecats--nux", "p", "s3", calls(1, 900))
    got = snapshot(*CostReader(town).scan())
    assert got != truth and got == fresh(town) and decoded and cache.read_bytes() == before


def test_appended_truncated_rewritten_replaced_and_deleted_files_give_what_reading_them_whole_gives(town, monkeypatch):
    homes = town / ".runtime" / "homes"
    s1 = homes / "rig--polecats--nux" / ".claude" / "projects" / "p" / "s1.jsonl"
    s2 = homes / "rig--polecats--nux" / ".claude" / "projects" / "p" / "s2.jsonl"
    rollout = next((homes / "rig--polecats--max").rglob("rollout-*.jsonl"))
    chat = next((homes / "rig--witness").rglob("session-*.jsonl"))
    leave_cache(town, monkeypatch)

    write_claude(homes / "rig--polecats--nux", "p", "s1", calls(1, 500, NOW - 60))      # appended
    with rollout.open("r+b") as fh:                                                         # truncated
        fh.truncate(rollout.stat().st_size // 2)
    # rewritten in place, same length, other counts (as an editor or a CLI's compaction might)
    text = s2.read_bytes()
    swapped = text.replace(b'"input_tokens":200', b'"input_tokens":299')
    assert len(swapped) == len(text) and swapped != text
    with s2.open("r+b") as fh:
        fh.write(swapped)
    st = s2.stat()
    os.utime(s2, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    chat.unlink()                                                                           # deleted
    assert from_cache(town) == fresh(town)

    leave_cache(town, monkeypatch)
    # replaced by a new file (a new inode) that is longer and starts otherwise; another rewritten longer in place
    # with new first lines
    new = s1.with_suffix(".new")
    new.write_text("".join(line + "\n" for line in claude_lines("s1", calls(6, 700))))
    os.replace(new, s1)
    with s2.open("r+b") as fh:
        fh.write("".join(line + "\n" for line in claude_lines("s2", calls(4, 800))).encode())
    assert from_cache(town) == fresh(town)
    inputs = sorted(r[5] for r in from_cache(town)[0])
    assert 700 in inputs and 800 in inputs and 100 not in inputs and 200 not in inputs


def test_a_broken_cache_or_one_written_by_other_code_is_ignored(town, monkeypatch):
    from gastown_tui.costs import cache as cache_mod

    truth = fresh(town)
    path = leave_cache(town, monkeypatch)
    good = path.read_bytes()
    listed = next(iter(orjson.loads(good)["files"]))
    for bad in (good[: len(good) // 2], b"", b"[1, 2]", b'{"stamp": 1}', b"\x00" * 100,
                orjson.dumps({**orjson.loads(good), "files": {listed: [1, 2]}})):
        path.write_bytes(bad)
        assert from_cache(town) == truth
    # written by other code: its records (here made wrong on purpose) are not taken
    data = orjson.loads(good)
    for row in data["files"].values():
        for record in row[-2]:
            record[4] += 1000
    path.write_bytes(orjson.dumps(data))
    assert from_cache(town) != truth        # the same code would take them (the cache is trusted)...
    data["stamp"][1] = "0.0.0-other"
    path.write_bytes(orjson.dumps(data))
    assert from_cache(town) == truth        # ...code of another version does not
    monkeypatch.setattr(cache_mod, "VERSION", cache_mod.VERSION + 1)
    path.write_bytes(good)
    assert from_cache(town) == truth
