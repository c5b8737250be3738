"""Formula/molecule speed: prints the figures of issues 3 and 17.

  gastown mol wisp towers-of-hanoi --var discs=20   1,048,575 steps, whole process, against
                                                    `python3 -S -c pass` in the same run
                                                    (targets <= 1 s, <= 100 MB peak RSS, <= 10 MB on disk)
  gastown mol burn of that wisp, whole process (target <= 0.5 s)
  working it: the Hanoi sim's `gt mol next` + `gt mol done`, in process, for --work-seconds
                                                    (target >= 2,000 steps/s; RSS flat)
  --app: the app's first frame and key reaction on the Hanoi demo town with the 20-disc wisp vs
         the same town with it burned (target ratio <= 1.1)
  gastown mol pour shiny-enterprise (the real one from ../shared/formulas, 9 steps once
  `implement` is expanded) into a 10,000-bead ledger, whole process (target <= 500 ms, median of 7)
  gastown mol burn of a discs=16 Hanoi wisp (65,535 steps), whole process, with the time making
  that wisp took in the same run as the reference (a linear burn costs about the same)

For reference, the same run also times `gastown --version` (interpreter + package start-up).
Everything happens in a temp dir. Run: .venv/bin/python benchmarks/meow.py [--discs N] [--skip-hanoi]
[--burn-discs N] [--skip-burn] [--skip-work] [--work-seconds S] [--app]
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


def measured(argv: list[str], cwd: Path) -> tuple[float, int]:
    """(wall seconds, peak RSS bytes) of one whole process, from a fresh helper process."""
    code = (
        "import json, resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "wall = time.perf_counter() - t\n"
        "r = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'wall': wall, 'rss': r.ru_maxrss * 1024}))\n"
    )
    data = json.loads(subprocess.run([sys.executable, "-c", code, *argv], cwd=cwd, capture_output=True,
                                     text=True, check=True).stdout)
    return data["wall"], data["rss"]


def disk_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def bench_hanoi(tmp: Path, discs: int, check: bool = False) -> None:
    """Making the wisp (whole process), against `python3 -S -c pass` in the same run; then burning it."""
    rig = tmp / "hanoi"
    rig.mkdir()
    subprocess.run(GASTOWN + ["bd", "init", "--prefix", "gt"], cwd=rig, check=True, capture_output=True)
    before = disk_bytes(rig / ".beads")
    refs = [measured(["python3", "-S", "-c", "pass"], rig) for _ in range(3)]
    ref_wall = statistics.median(r[0] for r in refs)
    runs = []
    for i in range(3):
        wall, rss, cpu, out = measured_child(["mol", "wisp", "towers-of-hanoi", "--var", f"discs={discs}"], rig)
        runs.append((wall, rss, out.strip(), cpu))
        if i < 2:
            run(["mol", "burn", out.strip()], rig)
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[3] for r in runs)
    rss = max(r[1] for r in runs)
    root = runs[-1][2]
    steps = 2 ** discs - 1
    size = disk_bytes(rig / ".beads") - before
    lines = sum(1 for _ in open(rig / ".beads" / "wisps.jsonl", encoding="utf-8"))
    ok = wall <= 1 and rss <= 100 * 2 ** 20 and size <= 10 * 2 ** 20
    print(f"gastown mol wisp towers-of-hanoi --var discs={discs} ({steps:,} steps; {lines} line(s) in "
          f"wisps.jsonl, {size / 1e3:.0f} kB on disk), whole process: median {wall * 1000:.0f} ms of 3, "
          f"({cpu * 1000:.0f} ms CPU), peak RSS {rss / 2**20:.0f} MB (targets <= 1 s, <= 100 MB, <= 10 MB on disk) "
          f"[{'ok' if ok else 'OVER'}]; "
          f"`python3 -S -c pass` {ref_wall * 1000:.0f} ms, ratio {wall / ref_wall:.1f}x")
    if check:
        replay_lazy(rig / ".beads", root, discs)
    burned = []
    for i in range(3):
        if i:
            root = run(["mol", "wisp", "towers-of-hanoi", "--var", f"discs={discs}"], rig)[1].strip()
        burned.append(run(["mol", "burn", root], rig)[0])
    left = (rig / ".beads" / "wisps.jsonl").read_text(encoding="utf-8")
    assert root not in left and not (rig / ".beads" / "wisp-steps" / root).exists(), "burn left part of the wisp"
    b = statistics.median(burned)
    print(f"gastown mol burn of that wisp, whole process: median {b * 1000:.0f} ms of 3 (target <= 500 ms) "
          f"[{'ok' if b <= 0.5 else 'OVER'}]; ratio to `python3 -S -c pass` {b / ref_wall:.1f}x")


WORKER = """
import json, os, resource, sys, time
from pathlib import Path
from gastown_tui.beads.ledger import RawLedger
from gastown_tui.demo.hanoi import HanoiTown, work
from gastown_tui.meow import formula_search_path, wisp
from gastown_tui.meow.search import FormulaLibrary

tmp, discs, seconds = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
ledger = RawLedger.init(tmp / ".beads", "gt")
bead = ledger.create("Move the tower")["id"]
root = wisp(ledger, "towers-of-hanoi", {"discs": str(discs)}, FormulaLibrary(formula_search_path()), on=bead)
(tmp / "wt").mkdir()
demo = HanoiTown(tmp, tmp, "rig", bead, root, "rig/polecats/bench", tmp / "wt", discs, ledger.beads_dir)

def rss():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024

windows = []
work(demo, stop_after=500)                     # warm up: imports, first seek
start, cpu0, rss0 = time.perf_counter(), time.process_time(), rss()
while time.perf_counter() - start < seconds:
    t, c = time.perf_counter(), time.process_time()
    r = work(demo, stop_after=2000)
    cpu = max(time.process_time() - c, 1e-9)
    windows.append((r.steps_closed / (time.perf_counter() - t), r.steps_closed / cpu, rss()))
steps = 2000 * len(windows)
print(json.dumps({"steps": steps, "wall": time.perf_counter() - start, "cpu": time.process_time() - cpu0,
                  "rss0": rss0, "windows": windows}))
"""


def bench_work(tmp: Path, discs: int, seconds: float) -> None:
    """The simulated agent working a big wisp through `gt mol next` + `gt mol done`, in windows of 2,000 steps."""
    folder = tmp / "work"
    folder.mkdir()
    proc = subprocess.run([sys.executable, "-c", WORKER, str(folder), str(discs), str(seconds)], cwd=REPO,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"the work benchmark failed:\n{proc.stderr[-3000:]}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    rate = data["steps"] / data["wall"]
    cpu_rate = data["steps"] / data["cpu"]
    walls = [w[0] for w in data["windows"]]
    rss = [w[2] for w in data["windows"]]
    ok = rate >= 2000
    verdict = "ok" if ok else "UNDER" + (" (CPU-starved: see load)" if cpu_rate >= 2000 else "")
    print(f"working a discs={discs} wisp through gt mol next + gt mol done (agent side, in process): "
          f"{data['steps']:,} steps in {data['wall']:.1f} s = {rate:,.0f} steps/s wall "
          f"(windows of 2,000: min {min(walls):,.0f}, max {max(walls):,.0f}), {cpu_rate:,.0f} steps per CPU-second "
          f"(target >= 2,000/s) [{verdict}]; "
          f"RSS {data['rss0'] / 2**20:.0f} MB at the start, {rss[len(rss) // 2] / 2**20:.0f} MB midway, "
          f"{rss[-1] / 2**20:.0f} MB at the end (flat: {'yes' if rss[-1] - data['rss0'] < 8 * 2**20 else 'NO'})")


def bench_app(tmp: Path, discs: int, runs: int = 3) -> None:
    """The app's first frame and a key's reaction on the Hanoi demo town, with its 20-disc wisp
    (100,000 steps worked) and with that wisp burned (the same town otherwise); see benchmarks/app.py."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from app import GASTOWN as APP, Terminal, env_for     # benchmarks/app.py's PTY + VT screen

    from gastown_tui.beads.ledger import RawLedger
    from gastown_tui.demo.hanoi import build_hanoi_town, work
    from gastown_tui.meow import burn

    towns = {}
    for name in ("with", "without"):
        demo = build_hanoi_town(tmp / f"app-{name}", discs)
        if name == "with":
            work(demo, stop_after=100_000)
        else:
            burn(RawLedger.open(demo.beads_dir), demo.molecule)
        towns[name] = demo
    os.environ.pop("BEADS_DIR", None)
    results = {}
    for name, demo in towns.items():
        frames, keys = [], []
        for _ in range(runs):
            t = Terminal([str(APP), "--no-agents"], demo.town, env_for())
            drawn = t.wait(lambda ls: any("Agents" in x for x in ls) and any("Activity" in x for x in ls), 60,
                           "the first frame")
            t.wait(lambda ls: "hanoi" in ls[0], 60, "the town in the header")
            frames.append(drawn - t.started)
            time.sleep(1.0)
            for key in "np" * 5:
                before = t.lines()
                t.child.send(key)
                k0 = time.perf_counter()
                try:
                    k1 = t.wait(lambda ls: ls != before, 3, "the key's effect")
                    keys.append(k1 - k0)
                except SystemExit:
                    pass
                time.sleep(0.1)
            t.close()
        results[name] = (statistics.median(frames), statistics.median(keys) if keys else None, len(keys))
    (fw, kw, nw), (fo, ko, no) = results["with"], results["without"]
    key_part = (f"key reaction {kw * 1000:.0f} ms vs {ko * 1000:.0f} ms (ratio {kw / ko:.2f}; {nw}/{no} presses "
                f"changed the screen)") if kw and ko else "key reaction: no press changed the screen (not measured)"
    ok = fw / fo <= 1.1 and (not (kw and ko) or kw / ko <= 1.1)
    print(f"app with a discs={discs} wisp (100,000 steps worked) in the town vs the same town without it: first frame "
          f"{fw * 1000:.0f} ms vs {fo * 1000:.0f} ms (ratio {fw / fo:.2f}); {key_part} (target ratios <= 1.1) "
          f"[{'ok' if ok else 'OVER'}]")


def replay_lazy(beads: Path, root: str, discs: int) -> None:
    """Replays a lazy wisp's moves, made back from the formula, with the checker (not part of the timing)."""
    from gastown_tui.beads.ledger import RawLedger
    from gastown_tui.meow.hanoi import check_hanoi
    from gastown_tui.meow.molecule import iter_step_records

    ledger = RawLedger.open(beads)

    def steps():
        for rec in iter_step_records(ledger, ledger.raw(root)):
            needs = [d["depends_on_id"] for d in rec.get("dependencies", ()) if d["type"] == "blocks"]
            yield rec["id"], rec["title"], needs

    start = time.perf_counter()
    report = check_hanoi(steps(), discs)
    verdict = "solved, every move legal" if report.ok else "; ".join(report.problems[:3])
    print(f"  replay check of the {report.moves:,} moves made back from the wisp: {verdict} "
          f"({time.perf_counter() - start:.1f} s)")


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
    parser.add_argument("--work-seconds", type=float, default=20, help="how long to work the wisp (default 20)")
    parser.add_argument("--skip-work", action="store_true")
    parser.add_argument("--app", action="store_true", help="also time the app with a 20-disc wisp in the town")
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
        if not args.skip_work:
            bench_work(tmp, args.discs, args.work_seconds)
        if args.app:
            bench_app(tmp, args.discs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
