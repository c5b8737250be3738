"""Formula/molecule speed: prints the two figures of issue 3.

  gastown mol wisp towers-of-hanoi --var discs=20   1,048,575 steps, whole process
                                                    (target <= 30 s wall, <= 1 GB peak RSS)
  gastown mol pour shiny-enterprise (the real one from ../shared/formulas, 9 steps once
  `implement` is expanded) into a 10,000-bead ledger, whole process (target <= 500 ms, median of 7)
  gastown mol burn of a discs=16 Hanoi wisp (65,535 steps), whole process, with the time making
  that wisp took in the same run as the reference (a linear burn costs about the same)

For reference, the same run also times `gastown --version` (interpreter + package start-up).
Everything happens in a temp dir. Run: .venv/bin/python benchmarks/meow.py [--discs N] [--skip-hanoi]
[--burn-discs N] [--skip-burn]
[--check] (--check also replays the wisp's moves, read back from disk, with the Hanoi checker).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("GASTOWN_SHARED", REPO.parent / "shared"))
GASTOWN = [sys.executable, "-m", "gastown_tui.cli"]


def run(args: list[str], cwd: Path) -> tuple[float, str]:
    """(wall seconds, stdout) of one whole `gastown` process."""
    start = time.perf_counter()
    proc = subprocess.Popen(GASTOWN + args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"gastown {' '.join(args)} failed ({proc.returncode}):\n{err}")
    return wall, out


def measured_child(args: list[str], cwd: Path) -> tuple[float, int, float, str]:
    """Runs the command from a fresh helper process so its peak RSS is the command's own."""
    code = (
        "import json, resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "wall = time.perf_counter() - t\n"
        "r = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'wall': wall, 'rss': r.ru_maxrss * 1024, 'cpu': r.ru_utime + r.ru_stime,"
        " 'rc': p.returncode, 'out': p.stdout, 'err': p.stderr}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *GASTOWN, *args], cwd=cwd, capture_output=True, text=True)
    data = json.loads(proc.stdout)
    if data["rc"] != 0:
        raise SystemExit(f"gastown {' '.join(args)} failed ({data['rc']}):\n{data['err']}")
    return data["wall"], data["rss"], data["cpu"], data["out"]


def make_ledger(folder: Path, n: int) -> list[str]:
    from gastown_tui.beads import Ledger

    ledger = Ledger.init(folder / ".beads", "gt")
    ids = [f"gt-{i:05d}" for i in range(n)]
    ledger.bulk_create(
        ({"id": rid, "title": f"Bench bead {i}", "description": "Work item used by benchmarks/meow.py. " * 4,
          "priority": i % 5} for i, rid in enumerate(ids)),
        actor="bench",
    )
    return ids


def bench_pour(tmp: Path, runs: int) -> None:
    town = tmp / "town"
    town.mkdir()
    shared = SHARED / "formulas"
    if not shared.is_dir():
        print(f"pour shiny-enterprise: skipped (no shared formulas at {shared})")
        return
    (town / "formulas").symlink_to(shared)           # the real Gas Town formulas, unchanged
    rig = tmp / "rig"
    rig.mkdir()
    ids = make_ledger(rig, 10_000)
    walls, version = [], []
    for i in range(runs):
        version.append(run(["--version"], rig)[0])
        wall, out = run(["mol", "pour", "shiny-enterprise", "--on", ids[i], "--var", "feature=search",
                            "--town", str(town)], rig)
        walls.append(wall)
    root = out.strip()
    shown = json.loads(run(["mol", "show", root, "--json"], rig)[1])
    med, ref = statistics.median(walls), statistics.median(version)
    print(f"pour shiny-enterprise ({shown['total']} steps) into a 10,000-bead ledger, whole process: "
          f"median {med * 1000:.0f} ms over {runs} runs (target <= 500 ms) "
          f"[{'ok' if med <= 0.5 else 'OVER'}]; `gastown --version` {ref * 1000:.0f} ms, ratio {med / ref:.1f}x")


def bench_hanoi(tmp: Path, discs: int, check: bool = False) -> None:
    rig = tmp / "hanoi"
    rig.mkdir()
    subprocess.run(GASTOWN + ["bd", "init", "--prefix", "gt"], cwd=rig, check=True, capture_output=True)
    wall, rss, cpu, out = measured_child(["mol", "wisp", "towers-of-hanoi", "--var", f"discs={discs}"], rig)
    steps = 2 ** discs - 1
    lines = sum(1 for _ in open(rig / ".beads" / "wisps.jsonl", encoding="utf-8"))
    size = (rig / ".beads" / "wisps.jsonl").stat().st_size
    assert lines == steps + 1, (lines, steps)
    ok = wall <= 30 and rss <= 1 << 30
    print(f"gastown mol wisp towers-of-hanoi --var discs={discs} ({steps:,} steps, {size / 1e6:.0f} MB wisp "
          f"store), whole process: {wall:.1f} s wall ({cpu:.1f} s CPU), peak RSS {rss / 2**20:.0f} MB "
          f"(target <= 30 s, <= 1024 MB) [{'ok' if ok else 'OVER'}]; {wall / steps * 1e6:.1f} us/step")
    if check:
        replay(rig / ".beads" / "wisps.jsonl", out.strip(), discs)


def bench_burn(tmp: Path, discs: int) -> None:
    """`gastown mol burn` of a Hanoi wisp, whole process, against making that wisp (same run)."""
    rig = tmp / f"burn{discs}"
    rig.mkdir()
    subprocess.run(GASTOWN + ["bd", "init", "--prefix", "gt"], cwd=rig, check=True, capture_output=True)
    made, out = run(["mol", "wisp", "towers-of-hanoi", "--var", f"discs={discs}"], rig)
    root = out.strip()
    burned, _ = run(["mol", "burn", root], rig)
    left = (rig / ".beads" / "wisps.jsonl").read_text(encoding="utf-8")
    assert root not in left, "burn left part of the wisp behind"
    steps = 2 ** discs - 1
    print(f"gastown mol burn of a discs={discs} Hanoi wisp ({steps:,} steps + root), whole process: "
          f"{burned:.2f} s ({burned / steps * 1e6:.0f} us/step); making it took {made:.2f} s "
          f"(burn/make {burned / made:.2f}x; one bulk delete, linear)")


def replay(path: Path, root: str, discs: int) -> None:
    """Streams the wisp store and replays the moves with the checker (not part of the timing)."""
    from gastown_tui.meow.hanoi import check_hanoi

    def steps():
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                if rec["id"] == root:
                    continue
                needs = [d["depends_on_id"] for d in rec.get("dependencies", ()) if d["type"] == "blocks"]
                yield rec["id"], rec["title"], needs

    start = time.perf_counter()
    report = check_hanoi(steps(), discs)
    verdict = "solved, every move legal" if report.ok else "; ".join(report.problems[:3])
    print(f"  replay check of the {report.moves:,} moves read back from the wisp store: {verdict} "
          f"({time.perf_counter() - start:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--discs", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-hanoi", action="store_true")
    parser.add_argument("--burn-discs", type=int, default=16, help="size of the wisp burned (default 16)")
    parser.add_argument("--skip-burn", action="store_true")
    parser.add_argument("--check", action="store_true", help="also replay the Hanoi wisp with the checker")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1):
        print(f"note: load average {load:.1f} on {os.cpu_count()} CPUs: wall times include waiting for a CPU")
    tmp = Path(tempfile.mkdtemp(prefix="gastown-meow-bench-"))
    try:
        bench_pour(tmp, args.runs)
        if not args.skip_burn:
            bench_burn(tmp, args.burn_discs)
        if not args.skip_hanoi:
            bench_hanoi(tmp, args.discs, args.check)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
