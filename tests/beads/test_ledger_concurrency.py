"""Many writers, killed writers, racing claimers: the ledger stays whole."""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

from gastown_tui.beads import Ledger
from .bdrun import bd, bd_cmd


WORKER = r"""
import sys
from gastown_tui.cli import main
w, shared = sys.argv[1], sys.argv[2]
for i in range(25):
    # Each change is one whole `gastown bd` command: parse args, open the ledger, lock, write, exit code.
    if i % 2 == 0:
        rc = main(["bd", "create", f"w{w}-c{i}", "--actor", f"w{w}"])
    else:
        rc = main(["bd", "label", "add", shared, f"w{w}-l{i}"])
    assert rc == 0, (w, i, rc)
"""


@pytest.mark.slow
def test_16_processes_making_25_changes_each_lose_nothing(tmp_path):
    bd("init", "--prefix", "gt", cwd=tmp_path)
    shared = bd("create", "everyone labels me", cwd=tmp_path).stdout.strip()
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(w), shared], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for w in range(16)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    ledger = Ledger.open(tmp_path / ".beads")          # strict: every line parses
    titles = {i.title for i in ledger.all()}
    expected_created = {f"w{w}-c{i}" for w in range(16) for i in range(0, 25, 2)}
    assert expected_created <= titles and len(ledger.all()) == 1 + len(expected_created)
    labels = set(ledger.get(shared).labels)
    assert labels == {f"w{w}-l{i}" for w in range(16) for i in range(1, 25, 2)}
    assert len(expected_created) + len(labels) == 16 * 25
    ids = [json.loads(x)["id"] for x in ledger.path.read_text().splitlines()]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    doctor = json.loads(bd("doctor", "--json", cwd=tmp_path).stdout)
    assert doctor["errors"] == 0


WRITER = r"""
import sys
from gastown_tui.beads import Ledger
ledger = Ledger.open(sys.argv[1])
target, start = sys.argv[2], int(sys.argv[3])
i = start
while True:
    i += 1
    ledger.update(target, notes=f"v{i}")
    print(i, flush=True)
"""


@pytest.mark.slow
def test_sigkill_mid_write_leaves_the_state_before_or_after(tmp_path, ledger_file):
    beads = tmp_path / ".beads"
    beads.mkdir()
    path = beads / "issues.jsonl"
    shutil.copyfile(ledger_file("beads__00eb13a9.jsonl"), path)   # 4 MB: a real write window
    baseline = path.read_text(encoding="utf-8").split("\n")
    target = json.loads(baseline[100])["id"]
    rng = random.Random(7)
    done = 0
    kills_mid_run = 0
    for attempt in range(16):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), target, str(done)],
                                stdout=subprocess.PIPE, text=True)
        first = proc.stdout.readline()                 # the writer is now looping on whole-file writes
        if attempt % 2:
            time.sleep(rng.uniform(0.0, 0.08))         # anywhere in the loop
        else:
            deadline = time.monotonic() + 3            # right inside a write: once its temp file exists
            pattern = f".issues.jsonl.{proc.pid}.*.tmp"
            while not any(beads.glob(pattern)) and time.monotonic() < deadline:
                pass
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        reported = [int(x) for x in (first + out).split()]
        last = reported[-1] if reported else done
        leftovers = list(beads.glob(".issues.jsonl.*.tmp"))
        if leftovers:                                  # killed between writing the temp file and the rename
            kills_mid_run += 1
            for tmp in leftovers:
                tmp.unlink()
        ledger = Ledger.open(path)                     # always parses
        notes = ledger.get(target).notes
        assert notes in (f"v{last}", f"v{last + 1}") or (notes == "" and last == 0), (notes, last)
        now = path.read_text(encoding="utf-8").split("\n")
        assert len(now) == len(baseline)
        diff = [n for n, (a, b) in enumerate(zip(baseline, now)) if a != b]
        assert diff in ([], [100])                     # every other line byte for byte
        done = int(notes[1:]) if notes else 0
    assert done > 0
    assert kills_mid_run >= 4, f"only {kills_mid_run} kills landed inside a write"


@pytest.mark.slow
def test_racing_claimers_never_share_a_bead(tmp_path):
    ledger = Ledger.init(tmp_path / ".beads", "gt")
    for n in range(24):
        ledger.create(f"job {n}", priority=n % 5)
    procs = []
    for w in range(6):
        script = (f"while out=$({' '.join(bd_cmd('ready', '--claim', '--json', '--actor', f'w{w}'))}) "
                  f"&& [ \"$out\" != null ]; do echo \"$out\"; done")
        procs.append(subprocess.Popen(["bash", "-c", script], cwd=tmp_path, stdout=subprocess.PIPE, text=True))
    claimed: dict[str, str] = {}
    for w, p in enumerate(procs):
        out, _ = p.communicate(timeout=600)
        for line in out.splitlines():
            rec = json.loads(line)
            assert rec["id"] not in claimed, f"{rec['id']} claimed by {claimed.get(rec['id'])} and w{w}"
            claimed[rec["id"]] = f"w{w}"
            assert rec["assignee"] == f"w{w}"
    assert len(claimed) == 24
    final = Ledger.open(ledger.beads_dir)
    assert all(final.get(i).assignee == w and final.get(i).status == "in_progress" for i, w in claimed.items())
