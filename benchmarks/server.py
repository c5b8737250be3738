"""Town server speed and memory: the figures of issue 11 that need no app, as ratios measured in this run.

  bd ready --json, 10,000-bead ledger, through the gt/bd shim, server running   vs python -S -c pass   (<= 1.5x)
  gt prime --json (polecat with a hooked bead, 10,000-bead rig ledger), shim    vs python -S -c pass   (<= 2x)
  both without a server (the shim's fallback)                                   vs today's process     (<= 1x)
  keystroke -> echo in the focused pane through the server, 30 agents x 20 KB/s, 4 panes shown  p95   (<= 20 ms)
  a client SIGSTOPped for --stop seconds while agents write 1 MB/s in all: server RSS growth   (<= 5 MB)
      and the time until it shows the current screens after SIGCONT                            (<= 1 s)
  30 idle agents: the server's CPU, % of one core                                               (<= 2 %)

Not here: the two figures that need the app as a client (attach to a 30-agent town, command to first full
frame vs a minimal Textual app; server + app CPU vs the single-process app) are benchmarks/attach.py's.

`--commands` measures only the gt/bd figures; `--repeat N` measures them N times (every round against its own
`python -S -c pass`) and prints each round and the medians, with the load average around each.

Everything is built in a temp dir (a town, a rig cloned from a small git project, 10,000 beads). The agents are
tests/server/chatter.py (numbered lines at a set rate; `cat` for the echo). Run:
  .venv/bin/python benchmarks/server.py            (--quick: fewer runs, a 10 s stop instead of 60 s)
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "tests"))

from bench_ledger import rig_records  # noqa: E402
from gastown_tui.client.connection import Connection  # noqa: E402

PY = sys.executable
CHATTER = REPO / "tests" / "server" / "chatter.py"
SCREEN_CLIENT = REPO / "tests" / "server" / "screen_client.py"


def sh(cwd, *args):
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


def wall(argv, cwd, env) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True)
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, argv))} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return took


def interleaved(cases: dict[str, tuple], runs: int, cpu: dict | None = None) -> dict[str, list[float]]:
    """Runs every case once per round, RUNS rounds, in a shuffled order each round (load drifts evenly).
    CPU, when given, gets each case's CPU seconds per run: the process's own (median) plus the server's
    (mean: /proc counts it in 10 ms ticks) as `cpu[case] = (process, server)`."""
    out: dict[str, list[float]] = {k: [] for k in cases}
    own: dict[str, list[float]] = {k: [] for k in cases}
    served: dict[str, float] = {k: 0.0 for k in cases}
    server = cpu.pop("server", None) if cpu is not None else None
    rng = random.Random(1)
    for _ in range(runs):
        order = list(cases)
        rng.shuffle(order)
        for k in order:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            s0 = server.cpu_seconds() if server else 0.0
            out[k].append(wall(*cases[k]))
            served[k] += (server.cpu_seconds() if server else 0.0) - s0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            own[k].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    if cpu is not None:
        for k in cases:
            cpu[k] = (statistics.median(own[k]), served[k] / runs)
    return out


def build_town(tmp: Path, beads: int):
    from gastown_tui.town.install import install_town
    from gastown_tui.town.ledgers import rig_ledger
    from gastown_tui.town.rigs import add_rig

    home = tmp / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Bench\n\temail = bench@gastown.invalid\n")
    os.environ.update(GIT_CONFIG_GLOBAL=str(home / ".gitconfig"), GIT_CONFIG_NOSYSTEM="1")
    project = tmp / "project"
    project.mkdir()
    sh(project, "git", "init", "-q", "-b", "main")
    (project / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    sh(project, "git", "add", ".")
    sh(project, "git", "commit", "-q", "-m", "initial")
    town = install_town(tmp / "town")
    add_rig(town, "calc", str(project), gate="true")
    records = rig_records(beads)
    rig_ledger(town, "calc").bulk_create(records, actor="bench")
    bead = next(r["id"] for r in records if r["status"] == "open")
    sh(town.root, PY, "-m", "gastown_tui.cli", "sling", bead, "calc", "--json")
    return town


class Server:
    def __init__(self, town_root: Path) -> None:
        from server.serverkit import ServerProcess

        self.proc = ServerProcess(town_root)
        self.proc.wait_ready()
        self.socket = self.proc.socket
        self.pid = self.proc.pid

    def cpu_seconds(self) -> float:
        """CPU time of all the server's threads, to the nanosecond (schedstat; /proc/PID/stat counts 10 ms
        ticks, too coarse for a call of a millisecond). Threads that already ended are not counted."""
        total = 0
        for tid in os.listdir(f"/proc/{self.pid}/task"):
            try:
                with open(f"/proc/{self.pid}/task/{tid}/schedstat", "rb") as fh:
                    total += int(fh.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
        return total / 1e9

    def stop(self) -> None:
        self.proc.stop()


# ------------------------------------------------------------------------------------------------- gt / bd
def command_figures(args, tmp: Path, town, server: Server) -> list[tuple[str, float, float, str]]:
    from ledger import generate

    lroot = tmp / "ledger10k"
    if not (lroot / ".beads" / "issues.jsonl").exists():
        generate(lroot / ".beads" / "issues.jsonl", args.beads)
    base = {k: v for k, v in os.environ.items() if k not in ("GT_TOWN", "GT_AGENT", "BEADS_DIR", "GASTOWN_SOCKET")}
    with_server = dict(base, GASTOWN_SOCKET=server.socket, GASTOWN_THIN_REQUIRE_SERVER="1")
    no_server = dict(base, GASTOWN_SOCKET=str(tmp / "no-server.sock"))
    wt = town.root / "calc" / "polecats" / "furiosa" / "calc"
    penv = dict(base, GT_AGENT="calc/polecats/furiosa")
    from gastown_tui.town.shims import write_shims

    shims = write_shims(town.root / ".runtime" / "shims")  # what agents run (the server wrote them too)
    bd_shim, gt_shim = [str(shims[1])], [str(shims[0])]
    today = [PY, "-m", "gastown_tui.cli"]
    # The interpreter itself, not whatever `python3` is on PATH (pyenv's is a shell script that costs ~10x).
    bare = [os.path.realpath(PY), "-S", "-c", "pass"]
    # Warm the server's ledgers (the first call after start parses; a running town parsed long ago).
    wall(bd_shim + ["ready", "--json"], lroot, with_server)
    wall(gt_shim + ["prime", "--json"], wt, dict(penv, GASTOWN_SOCKET=server.socket))
    same = subprocess.run(bd_shim + ["ready", "--json"], cwd=lroot, env=with_server, capture_output=True).stdout
    assert same == subprocess.run(today + ["bd", "ready", "--json"], cwd=lroot, env=base, capture_output=True).stdout
    primed = subprocess.run(gt_shim + ["prime", "--json"], cwd=wt, capture_output=True,
                            env=dict(penv, GASTOWN_SOCKET=server.socket, GASTOWN_THIN_REQUIRE_SERVER="1")).stdout
    assert primed == subprocess.run(today + ["prime", "--json"], cwd=wt, env=penv, capture_output=True).stdout
    cases = {
        "bare": (bare, lroot, base),
        "bd-shim": (bd_shim + ["ready", "--json"], lroot, with_server),
        "bd-fallback": (bd_shim + ["ready", "--json"], lroot, no_server),
        "bd-today": (today + ["bd", "ready", "--json"], lroot, base),
        "prime-shim": (gt_shim + ["prime", "--json"], wt, dict(penv, GASTOWN_SOCKET=server.socket,
                                                               GASTOWN_THIN_REQUIRE_SERVER="1")),
        "prime-fallback": (gt_shim + ["prime", "--json"], wt, dict(penv, GASTOWN_SOCKET=str(tmp / "none.sock"))),
        "prime-today": (today + ["prime", "--json"], wt, penv),
    }
    cpu: dict = {"server": server}
    t = {k: statistics.median(v) for k, v in interleaved(cases, args.runs, cpu).items()}
    bare_cpu = cpu["bare"][0]

    def cpu_row(label: str, case: str) -> tuple[str, float, float, str]:
        own, served = cpu[case]
        return (label, own + served, (own + served) / bare_cpu, f"(process {own * 1000:.1f} + server {served * 1000:.1f} ms)")
    return [
        ("bd ready --json via shim, server up", t["bd-shim"], t["bd-shim"] / t["bare"], "<= 1.5x python -S -c pass"),
        ("gt prime --json via shim, server up", t["prime-shim"], t["prime-shim"] / t["bare"],
         "<= 2x python -S -c pass"),
        ("bd ready --json via shim, no server", t["bd-fallback"], t["bd-fallback"] / t["bd-today"], "<= 1x today"),
        ("gt prime --json via shim, no server", t["prime-fallback"], t["prime-fallback"] / t["prime-today"],
         "<= 1x today"),
        ("  reference: python -S -c pass", t["bare"], 1.0, ""),
        ("  reference: today's bd ready --json", t["bd-today"], t["bd-today"] / t["bare"], ""),
        ("  reference: today's gt prime --json", t["prime-today"], t["prime-today"] / t["bare"], ""),
        # CPU time (less sensitive to a loaded machine than wall time): the shim's process plus the server's work.
        cpu_row("  CPU: bd ready via shim + server", "bd-shim"),
        cpu_row("  CPU: gt prime via shim + server", "prime-shim"),
        ("  CPU: python -S -c pass", bare_cpu, 1.0, f"(the idle server meanwhile: {cpu['bare'][1] * 1000:.2f} ms)"),
        ("  CPU: bd ready via shim, no server", cpu["bd-fallback"][0], cpu["bd-fallback"][0] / cpu["bd-today"][0],
         "vs today's process"),
        ("  CPU: gt prime via shim, no server", cpu["prime-fallback"][0],
         cpu["prime-fallback"][0] / cpu["prime-today"][0], "vs today's process"),
    ]


# ------------------------------------------------------------------------------------------------- screens
async def spawn_many(conn, town, prefix: str, n: int, rate: float, scrollback: int = 1000) -> list[str]:
    names = []
    for i in range(n):
        reply = await conn.request("spawn", agent=f"calc/polecats/{prefix}{i:02d}", cwd=str(town.root),
                                   argv=[PY, str(CHATTER), str(rate)], cols=100, rows=30, scrollback_lines=scrollback)
        names.append(reply["agent"])
    return names


async def stop_all(conn, names) -> None:
    await asyncio.gather(*(conn.request("stop", agent=a) for a in names), return_exceptions=True)


async def echo_latency(server: Server, town, keys: int) -> tuple[float, float, int]:
    conn = await Connection.open(server.socket, client="bench", interactive=True)
    busy = await spawn_many(conn, town, "busy", 30, 20_000)
    echo = (await conn.request("spawn", agent="mayor", argv=["cat"], cwd=str(town.root), cols=200, rows=50))["agent"]
    counts: dict[str, int] = {}
    rows: dict[int, str] = {}
    changed = asyncio.Event()

    def on_event(ev):
        if ev.get("event") == "screen" and ev["agent"] == echo:
            if ev["full"]:
                rows.clear()
            for y, runs in ev["rows_changed"].items():
                rows[int(y)] = "".join(r[0] for r in runs)
            counts["a"] = sum(line.count("a") for line in rows.values())
            changed.set()

    conn.on_event = on_event
    await conn.request("subscribe", agents=[echo] + busy[:3])  # 4 panes shown
    await conn.request("focus", agent=echo)
    await asyncio.sleep(2.0)  # the 30 agents are writing
    lat = []
    for i in range(keys):
        want = counts.get("a", 0) + 1
        t0 = time.perf_counter()
        await conn.request("input", agent=echo, data=base64.b64encode(b"a").decode())
        while counts.get("a", 0) < want:
            changed.clear()
            await asyncio.wait_for(changed.wait(), 10)
        lat.append(time.perf_counter() - t0)
        await asyncio.sleep(0.02)
    lat.sort()
    await stop_all(conn, busy + [echo])
    await conn.close()
    return statistics.median(lat), lat[int(len(lat) * 0.95) - 1], len(lat)


def _best(path: Path) -> dict:
    try:
        return json.loads(path.read_text())["best"]
    except (OSError, ValueError, KeyError):
        return {}


async def stopped_client(server: Server, town, seconds: float, tmp: Path) -> tuple[float, float, float]:
    conn = await Connection.open(server.socket, client="bench")
    names = await spawn_many(conn, town, "loud", 10, 100_000, scrollback=1000)  # 10 x 100 KB/s = 1 MB/s
    out = tmp / "seen.json"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    client = subprocess.Popen([PY, str(SCREEN_CLIENT), server.socket, str(out), *names], env=env)
    try:
        deadline = time.monotonic() + 60
        while len(_best(out)) < len(names) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(3.0)  # scrollbacks fill to their cap
        rss0 = server.proc.rss_kb()
        os.kill(client.pid, signal.SIGSTOP)
        await asyncio.sleep(seconds)
        rss1 = server.proc.rss_kb()
        latest: dict[str, int] = {}
        fresh = await Connection.open(server.socket, client="bench")

        def on_event(ev):
            if ev.get("event") == "screen":
                found = [int(m) for runs in ev["rows_changed"].values()
                         for m in re.findall(r"n=(\d{10})", "".join(r[0] for r in runs))]
                if found:
                    latest[ev["agent"]] = max(found + [latest.get(ev["agent"], 0)])

        fresh.on_event = on_event
        await fresh.request("subscribe", agents=names)
        while len(latest) < len(names):
            await asyncio.sleep(0.01)
        target = dict(latest)
        os.kill(client.pid, signal.SIGCONT)
        t0 = time.monotonic()
        while not all(_best(out).get(a, 0) >= target[a] for a in names):
            if time.monotonic() - t0 > 60:
                break
            await asyncio.sleep(0.005)
        caught = time.monotonic() - t0
        await fresh.close()
    finally:
        os.kill(client.pid, signal.SIGCONT)
        client.kill()
        client.wait()
    await stop_all(conn, names)
    await conn.close()
    return (rss1 - rss0) / 1024, caught, rss0 / 1024


async def idle_cpu(server: Server, town, seconds: float) -> float:
    conn = await Connection.open(server.socket, client="bench")
    names = await spawn_many(conn, town, "idle", 30, 0, scrollback=1000)
    await asyncio.sleep(3.0)  # start-up output settles
    c0, t0 = server.cpu_seconds(), time.monotonic()
    await asyncio.sleep(seconds)
    share = (server.cpu_seconds() - c0) / (time.monotonic() - t0) * 100
    await stop_all(conn, names)
    await conn.close()
    return share


def median_rows(rounds: list[list[tuple[str, float, float, str]]]) -> list[tuple[str, float, float, str]]:
    """Each figure's median over the rounds (time and ratio separately)."""
    return [(label, statistics.median(r[i][1] for r in rounds), statistics.median(r[i][2] for r in rounds),
             target if not target.startswith("(") or len(rounds) == 1 else "")
            for i, (label, _, _, target) in enumerate(rounds[0])]


def print_rounds(rounds, title: str) -> None:
    for rows, load0, load1 in rounds:
        print(f"gt/bd{' (' + title + ')' if title else ''}: load average {load0:.1f} -> {load1:.1f} on "
              f"{os.cpu_count()} CPUs")
        for label, secs, ratio, target in rows:
            print(f"  {label:<40} median {secs * 1000:7.1f} ms  {ratio:5.2f}x  {target}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--beads", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--keys", type=int, default=200)
    ap.add_argument("--stop", type=float, default=60.0, help="seconds the client stays stopped (default 60)")
    ap.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measurement")
    ap.add_argument("--quick", action="store_true", help="7 runs, 60 keys, a 10 s stop, 5 s idle")
    ap.add_argument("--commands", action="store_true", help="only the gt/bd figures")
    ap.add_argument("--repeat", type=int, default=1,
                    help="measure the gt/bd figures this many times (each against its own python -S -c pass) "
                         "and print every round and the medians: a shared machine's load drifts")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.keys, args.stop, args.idle = 7, 60, 10.0, 5.0
    tmp = Path(tempfile.mkdtemp(prefix="gastown-bench-server-"))
    town = build_town(tmp, args.beads)
    server = Server(town.root)
    try:
        rounds = []
        for n in range(max(1, args.repeat)):
            load0 = os.getloadavg()[0]
            rounds.append((command_figures(args, tmp, town, server), load0, os.getloadavg()[0]))
            if args.repeat > 1:
                print_rounds(rounds[-1:], f"round {n + 1}")
        rows = median_rows([r for r, _, _ in rounds])
        if args.commands:
            print_rounds([(rows, min(a for _, a, _ in rounds), max(b for _, _, b in rounds))],
                         f"medians of {len(rounds)} round(s)" if len(rounds) > 1 else "")
            return 0
        p50, p95, n = asyncio.run(echo_latency(server, town, args.keys))
        growth, caught, rss0 = asyncio.run(stopped_client(server, town, args.stop, tmp))
        cpu = asyncio.run(idle_cpu(server, town, args.idle))
    finally:
        server.stop()
    load = os.getloadavg()[0]
    print(f"server: {args.beads:,}-bead ledgers, {args.runs} runs each (interleaved); load average {load:.1f} on "
          f"{os.cpu_count()} CPUs")
    for label, secs, ratio, target in rows:
        print(f"  {label:<40} median {secs * 1000:7.1f} ms  {ratio:5.2f}x  {target}")
    print(f"  keystroke -> echo, 30 agents x 20 KB/s, 4 panes shown: p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms "
          f"({n} keys)  target p95 <= 20 ms")
    print(f"  client stopped {args.stop:g} s, agents 1 MB/s in all: server RSS {rss0:.0f} MB {growth:+.1f} MB "
          f"(target <= 5 MB); current screens {caught * 1000:.0f} ms after SIGCONT (target <= 1 s)")
    print(f"  30 idle agents: server CPU {cpu:.2f} % of a core (target <= 2 %)")
    print("  not measured here: attach -> first frame and server + app CPU (benchmarks/attach.py)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
