"""What keeping agents alive across a server crash costs, measured in one run.

1. A kept session writes its raw transcript through (one write(2) per PTY read, so a kill -9 of the server
   leaves no gap) instead of buffering it for 0.25 s: microseconds per 700-byte append (about one PTY read
   of an agent writing 20 KB/s), on the thread that reads the PTY, buffered vs write-through.
2. Recovery: N counter agents (tests/server/programs/counter.py) under a keeper and a minimal server
   (tests/server/programs/kept_server.py); `kill -9` of the server; seconds until the restarted server has
   adopted all N (same pids), against the reference of the same server's cold start spawning N fresh agents
   (both pay the VT engine's first import, ~1-2 s under load).

Run: .venv/bin/python benchmarks/keeper.py [--agents 10]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "tests" / "server" / "programs"
sys.path.insert(0, str(ROOT))

from gastown_tui.server import keeper as keeper_mod  # noqa: E402
from gastown_tui.sessions.transcript import Transcript  # noqa: E402


def appends(tmp: Path) -> tuple[float, float]:
    chunk = b"x" * 700
    out = []
    for wt in (False, True):
        t = Transcript(tmp / f"t{wt}", write_through=wt)
        n = 20000
        t0 = time.perf_counter()
        for _ in range(n):
            t.append(chunk)
        out.append((time.perf_counter() - t0) / n * 1e6)
        t.close()
    return out[0], out[1]


def status(town: Path) -> dict | None:
    try:
        return json.loads((town / "status.json").read_text())
    except (FileNotFoundError, ValueError):
        return None


def wait(cond, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.005)
    raise SystemExit("timed out")


def start(town: Path, agents: int) -> subprocess.Popen:
    server = [sys.executable, str(PROGRAMS / "kept_server.py"), str(town)]
    server += [f"rig/polecats/c{i}={json.dumps([sys.executable, str(PROGRAMS / 'counter.py')])}" for i in range(agents)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-S", keeper_mod.__file__, "--town", str(town), "--", *server],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=env)


def stop(proc: subprocess.Popen, town: Path) -> None:
    s = status(town)
    if s:
        try:
            os.kill(s["server_pid"], signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def recovery(tmp: Path, n: int) -> tuple[float, float]:
    cold_town = tmp / "cold"
    cold_town.mkdir()
    t0 = time.monotonic()
    proc = start(cold_town, n)
    wait(lambda: (lambda s: s if s and len(s["agents"]) == n else None)(status(cold_town)))
    cold = time.monotonic() - t0
    stop(proc, cold_town)

    town = tmp / "town"
    town.mkdir()
    proc = start(town, n)
    first = wait(lambda: (lambda s: s if s and len(s["agents"]) == n else None)(status(town)))
    pids = {a: v["pid"] for a, v in first["agents"].items()}
    t0 = time.monotonic()
    os.kill(first["server_pid"], signal.SIGKILL)
    again = wait(lambda: (lambda s: s if s and s["server_pid"] != first["server_pid"] and len(s["agents"]) == n
                          and all(v["adopted"] for v in s["agents"].values()) else None)(status(town)))
    took = time.monotonic() - t0 - keeper_mod.BACKOFF_FIRST  # the keeper's first restart waits BACKOFF_FIRST
    assert {a: v["pid"] for a, v in again["agents"].items()} == pids, "an agent changed pid"
    stop(proc, town)
    return cold, took


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--agents", type=int, default=10)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        buffered, through = appends(Path(tmp))
        print(f"transcript append, 700 B: buffered {buffered:.1f} us, write-through {through:.1f} us "
              f"(ratio {through / buffered:.2f}x; +{through - buffered:.1f} us per PTY read)")
        cold, took = recovery(Path(tmp), args.agents)
        print(f"kill -9 of the server with {args.agents} agents: adopted again in {took:.2f} s after the keeper's "
              f"{keeper_mod.BACKOFF_FIRST:g} s back-off; a cold start spawning {args.agents} fresh agents {cold:.2f} s "
              f"(ratio {took / cold:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
