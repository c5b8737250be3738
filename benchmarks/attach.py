"""The app attached to a running town server, measured on whole processes in real pseudo-terminals.

1. Attach: a town of N agents (each printing ~RATE bytes a second) runs in its server (`gastown up`);
   launch `gastown app` and time command -> first full frame (the Town screen with an agent's live rows in
   the centre pane). Reference in the same run, in turns with it while the town runs: a minimal Textual
   app's first frame. Target: <= 1.5x.
2. CPU: the same agents, 4 panes shown, for SECONDS: CPU of the server + the attached app, against today's
   single process (`gastown app --no-server`: the app runs the agents itself), measured in the same run
   (the agents' own CPU is not counted in either). Target: <= 1.2x.

Both apps start with their bytecode compiled, as installed: pip compiles Textual's (and a wheel's) at
install time, but a shell with PYTHONDONTWRITEBYTECODE=1 (this machine's) never writes gastown's own from a
source checkout, so every start would compile ~70 modules (~100 ms) the reference does not. The benchmark
compiles them once first (`--source` measures without).

Run: .venv/bin/python benchmarks/attach.py [--agents 30] [--rate 20000] [--seconds 10] [--runs 5] [--source]
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app import GASTOWN, Terminal, env_for, make_town  # noqa: E402  (benchmarks/app.py: the PTY harness)

from gastown_tui.client import control  # noqa: E402


def writer(rate: int) -> str:
    """A program printing ~`rate` bytes a second in 80-byte lines, 50 times a second."""
    per_tick = max(1, rate // 80 // 50)
    return ("import itertools, sys, time\n"
            "n = itertools.count()\n"
            "while True:\n"
            f"    sys.stdout.write(''.join(f'busy line {{next(n):08d}} ' + 'x' * 60 + '\\n' for _ in range({per_tick})))\n"
            "    sys.stdout.flush(); time.sleep(0.02)\n")


def busy_town(agents: int, rate: int, work: Path):
    """A town whose agents all run `writer(rate)`; `agents` polecats are slung (GUPP starts them)."""
    from gastown_tui.town.ledgers import rig_ledger
    from gastown_tui.town.sling import sling

    town = make_town(work, "attachtown")
    settings = json.loads(town.settings_path.read_text()) if town.settings_path.exists() else {}
    settings.setdefault("agents", {})["busy"] = {"argv": [sys.executable, "-c", writer(rate)], "beacon": "none",
                                                 "stuck_after": 3600}
    settings["role_agents"] = {role: "busy" for role in
                               ("mayor", "deacon", "boot", "witness", "refinery", "polecat", "crew")}
    town.settings_path.parent.mkdir(parents=True, exist_ok=True)
    town.settings_path.write_text(json.dumps(settings, indent=2))
    ledger = rig_ledger(town, "bench")
    for i in range(agents):
        bead = ledger.create(f"Busy work {i}", actor="bench").id
        sling(town, bead, "bench", no_convoy=True, actor="bench")
    return town


def polecats_running(root: Path) -> int:
    status = control.status(root) or {}
    return sum(1 for a in status.get("agents", []) if a.get("alive") and "/polecats/" in a["address"])


def wait_agents(root: Path, agents: int, timeout: float = 180) -> int:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        n = polecats_running(root)
        if n >= agents:
            return n
        time.sleep(0.5)
    return polecats_running(root)


def pane_shows_output(lines: list[str]) -> bool:
    """The Town screen's full frame: an agent's live rows in the centre pane, with the agents tree, the
    activity feed and the footer's keys drawn around it."""
    return (any("busy line" in line for line in lines[1:]) and any("Agents" in line for line in lines[:3])
            and any("Activity" in line for line in lines) and "^p" in lines[-1])


def first_frames(root: Path, work: Path, runs: int = 5) -> tuple[float, float]:
    """(attach, reference): the median first frame of each, measured in turns while the town runs (the same
    machine load for both)."""
    ref = work / "ref_app.py"
    ref.write_text("from textual.app import App\nfrom textual.widgets import Static\n"
                   "class A(App):\n    def compose(self):\n        yield Static('REFERENCE-READY')\nA().run()\n")
    refs, attaches = [], []
    for _ in range(runs):
        t = Terminal([sys.executable, str(ref)], work, env_for())
        refs.append(t.wait(lambda ls: any("REFERENCE-READY" in line for line in ls), 30, "the reference app")
                    - t.started)
        t.close()
        t = Terminal([str(GASTOWN), "app", "--town", str(root)], root, env_for())
        attaches.append(t.wait(pane_shows_output, 60, "an agent's rows in the attached app") - t.started)
        t.close()  # ctrl+q: detaches, the agents keep running
    print(f"  runs (ms): attach {[round(a * 1000) for a in attaches]}; minimal app {[round(r * 1000) for r in refs]}")
    return statistics.median(attaches), statistics.median(refs)


def four_panes(t: Terminal) -> None:
    """Layout 1 -> 2 -> 4 (the `l` key)."""
    for _ in range(2):
        t.child.send("l")
        time.sleep(0.5)


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def measure_cpu(pids: list[int], seconds: float) -> list[float]:
    """Each process's CPU over `seconds`, as a fraction of a core."""
    before = [cpu_seconds([p]) for p in pids]
    time.sleep(seconds)
    return [(cpu_seconds([p]) - b) / seconds for p, b in zip(pids, before)]


def busy_children(pid: int) -> int:
    """The single-process app's agents running `writer` (one that just ended, a zombie, is not counted)."""
    count = 0
    for child in psutil.Process(pid).children(recursive=True):
        try:
            count += "busy line" in " ".join(child.cmdline())
        except psutil.Error:
            continue
    return count


def server_pids(root: Path) -> list[int]:
    status = control.status(root) or {}
    return [status["server_pid"]] if status.get("server_pid") else []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=30)
    parser.add_argument("--rate", type=int, default=20_000, help="bytes a second each agent prints")
    parser.add_argument("--seconds", type=float, default=10.0, help="CPU measuring window")
    parser.add_argument("--runs", type=int, default=5, help="first frames of each app, measured in turns")
    parser.add_argument("--source", action="store_true",
                        help="do not compile gastown's bytecode first (measure a checkout that has none)")
    args = parser.parse_args()
    if not args.source:
        root_dir = Path(__file__).resolve().parent.parent
        for package in ("gastown_tui", "widgets"):
            compileall.compile_dir(root_dir / package, quiet=1)
    for k, v in (("GIT_AUTHOR_NAME", "bench"), ("GIT_AUTHOR_EMAIL", "bench@example.invalid"),
                 ("GIT_COMMITTER_NAME", "bench"), ("GIT_COMMITTER_EMAIL", "bench@example.invalid")):
        os.environ.setdefault(k, v)
    work = Path(tempfile.mkdtemp(prefix="gastown-bench-attach-"))
    town = None
    try:
        town = busy_town(args.agents, args.rate, work / "t")
        root = town.root
        control.start_background(root)
        running = wait_agents(root, args.agents)
        attach, reference = first_frames(root, work, args.runs)
        print(f"attach: {running} agents x ~{args.rate / 1000:g} KB/s running in the server: command -> first full "
              f"frame {attach * 1000:.0f} ms; minimal Textual app {reference * 1000:.0f} ms "
              f"(attach = {attach / reference:.2f}x the minimal app; target <= 1.5x; "
              f"{'from source' if args.source else 'bytecode compiled'}; {args.runs} runs each; "
              f"load {os.getloadavg()[0]:.2f})")

        t = Terminal([str(GASTOWN), "app", "--town", str(root)], root, env_for())
        t.wait(pane_shows_output, 60, "the attached app")
        four_panes(t)
        time.sleep(2)
        server_cpu, app_cpu = measure_cpu(server_pids(root) + [t.child.pid], args.seconds)
        served = server_cpu + app_cpu
        t.close()
        control.stop(root)

        t = Terminal([str(GASTOWN), "app", "--no-server", "--town", str(root)], root, env_for())
        t.wait(pane_shows_output, 120, "the single-process app")
        wait_end = time.monotonic() + 120
        while len(t.lines()) and time.monotonic() < wait_end and busy_children(t.child.pid) < args.agents:
            time.sleep(0.5)
        four_panes(t)
        time.sleep(2)
        (single,) = measure_cpu([t.child.pid], args.seconds)
        t.close()
        print(f"cpu: {args.agents} agents x ~{args.rate / 1000:g} KB/s, 4 panes shown: server + app "
              f"{served * 100:.0f}% of a core (server {server_cpu * 100:.0f}%, app {app_cpu * 100:.0f}%) "
              f"vs single-process app {single * 100:.0f}% "
              f"(= {served / single:.2f}x; target <= 1.2x)")
    finally:
        if town is not None:
            control.stop(town.root)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
