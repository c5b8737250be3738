"""Reading a town's costs: 30 agents x 200 sessions of Claude Code / Codex / Gemini CLI records.

Generates the records (each agent a CLI in turn; each session 5 model calls, written in the CLI's own
format as tests/costs/records.py writes them), then times:
  cold         a fresh CostBook reads every file and attributes every call (target <= 300 ms)
  cached       a fresh CostBook in a new process that finds the cost cache a server left (costs/cache.py)
  incremental  after one new call was appended to one session file (target <= 20 ms)
  unchanged    a scan with nothing new
References in the same run (the machine is shared and loaded, so compare ratios, not milliseconds):
reading every file's bytes once (open + read, the floor for a cold read) and starting a bare interpreter
(`python3 -S -c pass`). Each figure is the median of its runs, as wall time and as this process's CPU time
(less disturbed by other processes). The Ralph attempt latency is in benchmarks/ralph.py.

Run: .venv/bin/python benchmarks/costs.py [--agents 30] [--sessions 200]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def generate(town: Path, agents: int, sessions: int) -> int:
    from costs.records import write_claude, write_codex, write_gemini

    now = time.time() - 86400 - sessions * 10
    files = 0
    for a in range(agents):
        home = town / ".runtime" / "homes" / f"rig{a % 3}--polecats--cat{a}"
        kind = a % 3
        for s in range(sessions):
            calls = [{"ts": now + s * 10 + c, "input": 100 + c, "output": 10, "cache_write": 5, "cache_read": 50}
                     for c in range(5)]
            if kind == 0:
                path = write_claude(home, f"proj{s % 4}", f"s{a}-{s}", calls)
            elif kind == 1:
                path = write_codex(home, f"c{a}-{s}", calls)
            else:
                path = write_gemini(home, f"g{a}-{s}", calls)
            if s < sessions - 1:        # a past session: its file was last written then; the last one is live
                os.utime(path, (calls[-1]["ts"], calls[-1]["ts"]))
            files += 1
    return files


def timed(fn, runs: int = 5) -> float:
    return timed2(fn, runs)[0]


def timed2(fn, runs: int = 5) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds) of RUNS calls."""
    walls, cpus = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def bare_python() -> float:
    """Wall seconds to start and end a bare interpreter (median of 5): how loaded the machine is."""
    return timed(lambda: subprocess.run([sys.executable, "-S", "-c", "pass"], check=True))


def main() -> int:
    from gastown_tui.costs.book import CostBook
    from gastown_tui.costs.cache import cache_path, save
    from gastown_tui.costs.prices import Prices
    from costs.records import write_claude

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=30)
    ap.add_argument("--sessions", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="costs-bench-") as tmp:
        town = Path(tmp)
        files = generate(town, args.agents, args.sessions)
        paths = [p for p in (town / ".runtime" / "homes").rglob("*.jsonl")]
        prices = Prices.for_town(town)

        def read_bytes():
            for p in paths:
                with open(p, "rb") as fh:
                    fh.read()

        floor, floor_cpu = timed2(read_bytes)
        bare = bare_python()
        colds, cold_cpus, calls = [], [], 0
        for _ in range(5):
            book = CostBook(town)
            t0, c0 = time.perf_counter(), time.process_time()
            entries, problems = book.entries(prices)
            colds.append(time.perf_counter() - t0)
            cold_cpus.append(time.process_time() - c0)
            calls = len(entries)
        cold, cold_cpu = statistics.median(colds), statistics.median(cold_cpus)
        assert not cache_path(town / ".runtime" / "homes").exists()     # a one-shot read writes no cache
        save(cache_path(town / ".runtime" / "homes"), book.reader.refresh())     # as the server would
        cached, cached_cpu = timed2(lambda: CostBook(town).entries(prices))
        assert len(CostBook(town).entries(prices)[0]) == calls
        unchanged = timed(lambda: book.entries(prices))
        target = town / ".runtime" / "homes" / "rig0--polecats--cat0" / ".claude" / "projects" / "proj0"
        incs = []
        for i in range(5):
            write_claude(target.parent.parent.parent, f"proj{(args.sessions - 1) % 4}", f"s0-{args.sessions - 1}",
                         [{"ts": time.time(), "input": 7 + i, "output": 1}])
            t0 = time.perf_counter()
            entries, _ = book.entries(prices)
            incs.append(time.perf_counter() - t0)
        inc = statistics.median(incs)
        assert len(entries) == calls + 5, (len(entries), calls)
    print(f"{args.agents} agents x {args.sessions} sessions: {files} record files, {calls} model calls")
    print(f"cold read:        {cold * 1000:7.1f} ms wall, {cold_cpu * 1000:6.1f} ms CPU  (target <= 300 ms)")
    print(f"incremental read: {inc * 1000:7.1f} ms  (one call appended; target <= 20 ms)")
    print(f"cached cold read: {cached * 1000:7.1f} ms wall, {cached_cpu * 1000:6.1f} ms CPU  (a new process with the "
          f"cache a server left)")
    print(f"unchanged scan:   {unchanged * 1000:7.1f} ms")
    print(f"reference: open+read of every file: {floor * 1000:.1f} ms wall, {floor_cpu * 1000:.1f} ms CPU; "
          f"`python3 -S -c pass`: {bare * 1000:.1f} ms")
    print(f"ratios: cold/read-bytes {cold / floor:.1f}x wall, {cold_cpu / floor_cpu:.1f}x CPU; "
          f"cold/bare-python {cold / bare:.1f}x; incremental/bare-python {inc / bare:.2f}x")
    print(f"machine load (1-minute average): {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    return 0 if cold <= 0.3 and inc <= 0.02 else 1


if __name__ == "__main__":
    sys.exit(main())
