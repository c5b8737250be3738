"""Town speed: prints the two figures of issue 4, whole process, rig ledger of 10,000 beads.

  gastown prime (text and --json) for a polecat with a hooked bead and molecule   (target <= 300 ms median)
  gastown sling BEAD RIG (spawns a polecat: worktree, branch, agent bead, molecule, convoy)  (target <= 1 s median)

Reference in the same run: `gastown --version` (interpreter start + dispatcher), so the
ratios show what the town work itself costs. Everything is built in a temp dir:
a town, a rig cloned from a small real git project, 10,000 beads bulk-created in the
rig ledger (mixed statuses, parent/child edges). Run: .venv/bin/python benchmarks/town.py
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_ledger import rig_records  # noqa: E402 (beside this script)


def sh(cwd, *args):
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


CPU: dict[int, list[float]] = {}   # id(times list) -> CPU seconds (user + system) of each run


def timed(argv, cwd, env, runs, into=None):
    """Wall times of RUNS whole-process runs; their CPU times are kept in CPU[id(list)]."""
    times = [] if into is None else into
    cpu = CPU.setdefault(id(times), [])
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.strip()}")
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--beads", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()

    from gastown_tui.town.install import install_town
    from gastown_tui.town.ledgers import rig_ledger
    from gastown_tui.town.rigs import add_rig

    tmp = Path(tempfile.mkdtemp(prefix="gastown-bench-town-"))
    home = tmp / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Bench\n\temail = bench@gastown.invalid\n")
    env = dict(os.environ, GIT_CONFIG_GLOBAL=str(home / ".gitconfig"), GIT_CONFIG_NOSYSTEM="1")
    os.environ.update(GIT_CONFIG_GLOBAL=env["GIT_CONFIG_GLOBAL"], GIT_CONFIG_NOSYSTEM="1")
    project = tmp / "project"
    project.mkdir()
    sh(project, "git", "init", "-q", "-b", "main")
    (project / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    sh(project, "git", "add", ".")
    sh(project, "git", "commit", "-q", "-m", "initial")

    town = install_town(tmp / "town")
    add_rig(town, "calc", str(project), gate="true")
    ledger = rig_ledger(town, "calc")
    records = rig_records(args.beads)
    ledger.bulk_create(records, actor="bench")
    free = [r["id"] for r in records if r["status"] == "open"]
    env["GT_TOWN"] = str(town.root)
    gastown = [sys.executable, "-m", "gastown_tui.cli"]
    size = (town.root / "calc" / ".beads" / "issues.jsonl").stat().st_size

    ref = timed(gastown + ["--version"], town.root, env, args.runs)
    sling_times = []
    slung = []
    for bead in free[: args.runs]:
        timed(gastown + ["sling", bead, "calc", "--json"], town.root, env, 1, into=sling_times)
        slung.append(bead)
    import json

    agent = json.loads(subprocess.run(gastown + ["hook", "show", "calc/polecats/furiosa", "--json"],
                                      cwd=town.root, env=env, capture_output=True, text=True).stdout)
    assert agent["hook"]["id"] == slung[0]
    wt = town.root / "calc" / "polecats" / "furiosa" / "calc"
    penv = dict(env, GT_AGENT="calc/polecats/furiosa")
    prime_json = timed(gastown + ["prime", "--json"], wt, penv, args.runs)
    prime_text = timed(gastown + ["prime"], wt, penv, args.runs)

    def ms(v):
        return f"{statistics.median(v) * 1000:7.1f} ms"

    r = statistics.median(ref)
    load = os.getloadavg()[0]
    print(f"town: rig ledger {args.beads:,} beads ({size / 1e6:.1f} MB), {len(slung)} polecats, {args.runs} runs each; "
          f"load average {load:.1f} on {os.cpu_count()} CPUs")
    print(f"  reference  gastown --version          median {ms(ref)} wall, {ms(CPU[id(ref)])} CPU")
    for label, vals, target in (("gastown prime --json", prime_json, 0.300), ("gastown prime", prime_text, 0.300),
                                ("gastown sling BEAD RIG", sling_times, 1.0)):
        med = statistics.median(vals)
        verdict = "ok" if med <= target else "OVER TARGET"
        print(f"  {label:<32} median {ms(vals)} wall (best {min(vals) * 1000:.0f} ms), {ms(CPU[id(vals)])} CPU  "
              f"(x{med / r:.1f} reference; target <= {target * 1000:.0f} ms wall: {verdict})")
    if load > (os.cpu_count() or 1):
        print(f"  note: the machine is loaded (load {load:.1f}); wall times include waiting for a CPU, "
              f"CPU times do not")
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
