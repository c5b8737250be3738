"""Ledger speed: prints the four figures of issue 2 (plus bulk wisp insert).

  gastown bd ready --json, 10,000 beads, whole process   (target <= 250 ms median)
  gastown bd update,       10,000 beads, whole process   (target <= 400 ms median)
  load 100,000 beads in process                          (target <= 2 s)
  ready query on 100,000 beads in process                (target <= 100 ms)
  bulk_create of 1,048,575 wisp steps (time and peak RSS; --skip-bulk to omit)
  canonical encode per record (against plain json.dumps) and delete_many of 10 % of 100,000 beads

Ledgers are generated in a temp dir (seeded like Beads' fixtures: 10 % epics, 30 %
features, half open, 20 % with a cross-epic `blocks` edge). Run: .venv/bin/python benchmarks/ledger.py
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gastown_tui.beads.codec import encode  # noqa: E402
from gastown_tui.timestamps import format_ns  # noqa: E402

WORDS = ("ledger bead hook convoy polecat witness refinery deacon molecule wisp formula merge queue rig "
         "crew mayor nudge patrol sling handoff seance").split()


def generate(path: Path, n: int, seed: int = 42, prefix: str = "bd") -> list[str]:
    rng = random.Random(seed)
    base = 1_767_000_000 * 10**9
    ids = [f"{prefix}-{i:06x}" for i in range(n)]
    lines = []
    for i, rid in enumerate(ids):
        kind = "epic" if i % 10 == 0 else ("feature" if i % 10 < 4 else rng.choice(["task", "bug", "chore"]))
        status = rng.choice(["open"] * 5 + ["in_progress", "closed", "closed", "closed", "blocked"])
        created = base + i * 37 * 10**9 + rng.randrange(10**9)
        rec = {"id": rid, "title": " ".join(rng.choice(WORDS) for _ in range(6)),
               "description": " ".join(rng.choice(WORDS) for _ in range(40)),
               "status": status, "priority": rng.randrange(5), "issue_type": kind,
               "created_at": format_ns(created), "created_by": "bench", "updated_at": format_ns(created + 10**9)}
        if status == "closed":
            rec["closed_at"] = rec["updated_at"]
        deps = []
        if kind != "epic":
            parent = ids[(i // 10) * 10]
            deps.append({"issue_id": rid, "depends_on_id": parent, "type": "parent-child",
                         "created_at": rec["created_at"], "created_by": "bench"})
        if rng.random() < 0.2 and i > 20:
            other = ids[rng.randrange(i)]
            if other != rid:
                deps.append({"issue_id": rid, "depends_on_id": other, "type": "blocks",
                             "created_at": rec["created_at"], "created_by": "bench"})
        if deps:
            rec["dependencies"] = deps
        lines.append(encode(rec))
    lines.sort()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (path.parent / "config.yaml").write_text(f"issue-prefix: {prefix}\n")
    return ids


def gastown() -> list[str]:
    exe = Path(sys.executable).parent / "gastown"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "gastown_tui.cli"]


def median_ms(cmd_for_run, runs: int) -> tuple[float, float]:
    """Median wall ms and median CPU ms (user + system of the child) of a command."""
    times, cpus = [], []
    for i in range(runs):
        cmd = cmd_for_run(i)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - t) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return statistics.median(times), statistics.median(cpus)


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: fresh after exec, unlike ru_maxrss which can carry the parent's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bulk_child(tmp: Path, n: int) -> None:
    """Runs in a fresh process so its peak RSS is the bulk insert's alone."""
    from gastown_tui.beads import Ledger

    ledger = Ledger.init(tmp / "bulk" / ".beads", "gt")
    root = ledger.create("mol root", id="gt-wisp-root", ephemeral=True)
    t = time.perf_counter()
    count = ledger.bulk_create(({"id": f"{root.id}.s{i}", "title": f"step {i}", "issue_type": "task",
                                 "dependencies": [{"issue_id": f"{root.id}.s{i}", "depends_on_id": root.id,
                                                   "type": "parent-child", "created_at": "2026-01-01T00:00:00Z"}]}
                                for i in range(n)), ephemeral=True)
    secs = time.perf_counter() - t
    peak_mb = peak_rss_mb()
    print(json.dumps({"count": count, "seconds": secs, "peak_rss_mb": peak_mb}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--skip-bulk", action="store_true")
    ap.add_argument("--bulk-steps", type=int, default=1_048_575)
    ap.add_argument("--bulk-child", metavar="DIR", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bulk_child:
        bulk_child(Path(args.bulk_child), args.bulk_steps)
        return 0
    from gastown_tui.beads import Ledger

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        small = tmp / "small" / ".beads" / "issues.jsonl"
        ids = generate(small, 10_000)
        env_db = ["--db", str(small.parent)]
        (py_start, py_cpu) = median_ms(lambda i: [sys.executable, "-c", "pass"], args.runs)
        (ready, ready_cpu) = median_ms(lambda i: gastown() + ["bd", "ready", "--json", *env_db], args.runs)
        (update, update_cpu) = median_ms(
            lambda i: gastown() + ["bd", "update", ids[i * 7 + 1], "--notes", f"n{i}", *env_db], args.runs)
        print(f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times grow with it)")
        print(f"python -c pass (reference):                      {py_start:7.1f} ms median wall, {py_cpu:6.1f} ms CPU")
        print(f"gastown bd ready --json, 10,000 beads (process): {ready:7.1f} ms median wall, {ready_cpu:6.1f} ms CPU"
              f"  (target <= 250; {ready / py_start:.1f}x python startup)")
        print(f"gastown bd update, 10,000 beads (process):       {update:7.1f} ms median wall, {update_cpu:6.1f} ms CPU"
              f"  (target <= 400; {update / py_start:.1f}x python startup)")

        big = tmp / "big" / ".beads" / "issues.jsonl"
        generate(big, 100_000, seed=43)
        loads, builds, alls, tops = [], [], [], []
        for _ in range(3):
            t = time.perf_counter()
            ledger = Ledger.open(big)
            loads.append(time.perf_counter() - t)
            t = time.perf_counter()
            ledger.blocked_index()
            builds.append((time.perf_counter() - t) * 1000)
            for _ in range(3):
                t = time.perf_counter()
                n_ready = len(ledger.raw_ready(limit=None))
                alls.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                ledger.raw_ready(limit=10)
                tops.append((time.perf_counter() - t) * 1000)
        # After a change the index is updated in place, not rebuilt: time change + query.
        victim = next(iter(ledger.blocked_index().workable))
        t = time.perf_counter()
        ledger.close(victim, reason="bench")
        changed = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        ledger.raw_ready(limit=None)
        after_change = (time.perf_counter() - t) * 1000
        print(f"load 100,000 beads (in process):                 {statistics.median(loads):7.2f} s median   (target <= 2)")
        print(f"  + blocked index, built once per load:          {statistics.median(builds):7.1f} ms median "
              f"(then kept current change by change)")
        print(f"ready on 100,000 beads, all {n_ready} ready:       {statistics.median(alls):7.1f} ms median  (target <= 100)")
        print(f"ready on 100,000 beads, top 10 (bd's default):   {statistics.median(tops):7.1f} ms median")
        print(f"close one bead (write 100k-line file) then ready: {changed:.0f} ms + {after_change:.1f} ms")
        records = list(ledger.raw_list(include_closed=True))
        t = time.process_time()
        for rec in records:
            encode(rec)
        enc_us = (time.process_time() - t) / len(records) * 1e6
        t = time.process_time()
        for rec in records:
            json.dumps(rec, ensure_ascii=False, separators=(",", ":"))
        ref_us = (time.process_time() - t) / len(records) * 1e6
        print(f"canonical encode (Go key order + escaping):      {enc_us:7.2f} us/record CPU "
              f"(plain json.dumps {ref_us:.2f} us, {enc_us / ref_us:.1f}x)")
        doomed = [r["id"] for r in records[5::10]]      # leaf tasks (some block others)
        t = time.perf_counter()
        ledger.delete_many(doomed)
        deleted = time.perf_counter() - t
        t = time.perf_counter()
        ledger.raw_ready(limit=None)
        after_delete = (time.perf_counter() - t) * 1000
        print(f"delete_many of {len(doomed):,} of the 100,000 beads:    {deleted:7.2f} s (one pass, one write), "
              f"then ready {after_delete:.0f} ms")
        if not args.skip_bulk:
            out = subprocess.run([sys.executable, __file__, "--bulk-child", str(tmp), "--bulk-steps",
                                  str(args.bulk_steps)], check=True, capture_output=True, text=True).stdout
            data = json.loads(out.strip().splitlines()[-1])
            print(f"bulk_create {data['count']:,} wisp steps:          {data['seconds']:7.1f} s, "
                  f"peak RSS {data['peak_rss_mb']:.0f} MB  (target <= 30 s, <= 1024 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
