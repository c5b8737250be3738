"""Factory speed: the headless demo's time to land, patrol wake-up latency, CPU of an idle town.

    .venv/bin/python benchmarks/factory.py            (about a minute)

Prints:
  demo_land_seconds      headless demo, 5 beads, 3 polecats (target <= 60 s)
  wake_latency_ms        a ledger change -> the concerned patrol's run starts (median / max of 10; target <= 1000)
  idle_cpu_percent       a headless town with 10 idle agents, % of one core over 20 s (target <= 3%)
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gastown_tui.demo.build import build_demo_town  # noqa: E402
from gastown_tui.demo.run import run_factory  # noqa: E402
from gastown_tui.demo.verify import check_demo  # noqa: E402
from gastown_tui.patrols.runtime import TownRuntime  # noqa: E402


def bench_demo(tmp: Path) -> float:
    demo = build_demo_town(tmp / "demo", polecats=3)
    outcome = asyncio.run(run_factory(demo.town.root, convoy=demo.convoy, timeout=180, log=lambda _l: None))
    check = check_demo(demo)
    print(f"  demo: {check.summary()}")
    if not outcome.landed or not check.ok:
        print("  demo did NOT land right", file=sys.stderr)
        return float("inf")
    return outcome.seconds


def _plain_town(tmp: Path):
    from gastown_tui.demo.sample import gate_command, write_sample_project
    from gastown_tui.town.install import install_town
    from gastown_tui.town.jsonfile import read_json, write_json
    from gastown_tui.town.rigs import add_rig

    src = write_sample_project(tmp / "src")
    town = install_town(tmp / "town")
    data = read_json(town.settings_path, default={}) or {}
    data.setdefault("role_agents", {})["polecat"] = "sim"
    write_json(town.settings_path, data)
    return town, add_rig(town, "textkit", str(src), gate=gate_command())


async def _wake(tmp: Path) -> list[float]:
    from gastown_tui.town.ledgers import open_ledger

    town, rig = _plain_town(tmp)
    rt = TownRuntime(town.root)
    starts: list[tuple[float, str]] = []
    rt.runner.subscribe(lambda r: starts.append((r.started_at, r.patrol, r.reason)))
    await rt.start()
    await asyncio.sleep(2.0)  # first runs done
    ledger = open_ledger(rig.beads_dir)
    lat = []
    for i in range(10):
        before = len(starts)
        t0 = time.time()
        await asyncio.to_thread(ledger.create, f"wake test {i}")
        deadline = time.time() + 5
        while time.time() < deadline:
            hit = [s for s in starts[before:] if s[1] == "witness:textkit" and s[2] == "change"]
            if hit:
                lat.append(hit[0][0] - t0)
                break
            await asyncio.sleep(0.005)
        else:
            lat.append(float("inf"))
        await asyncio.sleep(1.0)
    await rt.stop()
    return lat


async def _idle(tmp: Path, agents: int = 10, seconds: float = 20.0) -> float:
    from gastown_tui.patrols.actions import Actions
    from gastown_tui.town.polecats import spawn_polecat

    town, rig = _plain_town(tmp)
    rt = TownRuntime(town.root)
    await rt.start()
    actions = Actions(rt.town, rt.sessions, asyncio.get_running_loop())
    for _ in range(agents):
        cat = await asyncio.to_thread(spawn_polecat, town, rig.name)
        spec = await asyncio.to_thread(actions._spec, cat.address, None)
        await rt.sessions.spawn(spec)
    await asyncio.sleep(5.0)  # let them prime and settle at their prompts
    me = psutil.Process()
    procs = [me] + me.children(recursive=True)

    def cpu():
        total = 0.0
        for p in procs:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total

    live = len([s for s in rt.sessions.sessions() if s.alive])
    c0, t0 = cpu(), time.monotonic()
    await asyncio.sleep(seconds)
    c1, t1 = cpu(), time.monotonic()
    states = sorted({getattr(s.state, "value", str(s.state)) for s in rt.sessions.sessions()})
    print(f"  idle town: {live} live agent sessions ({', '.join(states)}), {len(procs)} processes measured")
    await rt.stop()
    return 100.0 * (c1 - c0) / (t1 - t0)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="gastown-bench-") as d:
        tmp = Path(d)
        demo = bench_demo(tmp / "a")
        print(f"demo_land_seconds {demo:.1f}   (target <= 60)")
        lat = asyncio.run(_wake(tmp / "b"))
        print(f"wake_latency_ms median {1000 * statistics.median(lat):.0f} max {1000 * max(lat):.0f}   (target <= 1000)")
        cpu = asyncio.run(_idle(tmp / "c"))
        print(f"idle_cpu_percent {cpu:.2f}   (10 idle agents + patrols, % of one core; target <= 3)")
        ok = demo <= 60 and max(lat) <= 1.0 and cpu <= 3.0
    print("all targets met" if ok else "SOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
