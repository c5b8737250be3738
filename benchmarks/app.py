"""App speed, measured on the whole `gastown` process in a real pseudo-terminal.

1. First frame: launch `gastown` (agents off) on a town whose ledgers hold
   10,000 beads, read its output through a VT screen, and time (a) the first
   frame (the Town screen's panels drawn) and (b) the town loaded (its name in
   the header). Reference in the same run: the first frame of a minimal Textual
   app, to print the ratio. Target: first frame <= 1 s.
2. Key reaction: launch `gastown` with its agents on a town of 30 busy agents
   (each prints ~20 lines a second), then press n/p 60 times and time each press
   until the screen shows the switch (the centre pane's title row changes).
   Target: p95 <= 50 ms. Then, in the same app, Enter to type into the focused
   agent's pane and time 40 typed letters until each one's echo shows in the
   pane (the PTY echoes it; the agent keeps printing). Same target.

Run: .venv/bin/python benchmarks/app.py [--beads 10000] [--agents 30] [--presses 60] [--echoes 40]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GASTOWN = Path(sys.executable).parent / "gastown"
COLS, ROWS = 160, 48

BUSY = ("import itertools, sys, time\n"
        "for i in itertools.count():\n"
        "    sys.stdout.write(f'busy line {i:06d} ' + 'x' * 60 + '\\n'); sys.stdout.flush(); time.sleep(0.05)\n")


class Terminal:
    """A child process in a PTY whose output is fed to a VT screen by a reader thread."""

    def __init__(self, argv: list[str], cwd: Path, env: dict) -> None:
        from gastown_tui.sessions.vt import new_screen

        self.screen = new_screen(cols=COLS, rows=ROWS, scrollback_lines=100)
        self.lock = threading.Lock()
        self.started = time.perf_counter()
        self.child = pexpect.spawn(argv[0], argv[1:], cwd=str(cwd), env=env, dimensions=(ROWS, COLS))
        self.screen.on_reply = lambda data: self.child.send(data)
        self.alive = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while self.alive:
            try:
                data = self.child.read_nonblocking(65536, timeout=0.05)
            except pexpect.TIMEOUT:
                continue
            except (pexpect.EOF, OSError):
                break
            with self.lock:
                self.screen.feed(data)

    def lines(self) -> list[str]:
        with self.lock:
            return self.screen.lines()

    def wait(self, predicate, timeout: float, what: str, poll: float = 0.002) -> float:
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            if predicate(self.lines()):
                return time.perf_counter()
            time.sleep(poll)
        raise SystemExit(f"benchmark: timed out waiting for {what}; screen:\n" + "\n".join(self.lines()))

    def close(self) -> None:
        try:
            self.child.sendcontrol("q")
            self.child.expect(pexpect.EOF, timeout=20)
        except (pexpect.TIMEOUT, OSError):
            self.child.terminate(force=True)
        self.alive = False
        self.child.close(force=True)


def agent_processes(town_root: Path) -> list[int]:
    """Live agent processes of the town (GT_TOWN and GT_AGENT in their environment)."""
    import psutil

    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            env = proc.environ()
        except (psutil.Error, OSError):
            continue
        if env.get("GT_TOWN") == str(town_root) and env.get("GT_AGENT"):
            found.append(proc.pid)
    return found


def env_for() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "GT_TOWN", "GT_AGENT")}
    env.update(TERM="xterm-256color", COLORTERM="truecolor")
    return env


def make_town(dest: Path, name: str):
    from gastown_tui.town.install import install_town
    from gastown_tui.town.rigs import add_rig

    town = install_town(dest / "town", name=name)
    src = dest / "src"
    src.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=src, check=True)
    (src / "README.md").write_text("bench\n")
    subprocess.run(["git", "add", "-A"], cwd=src, check=True)
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "-m", "init"], cwd=src,
                   check=True)
    add_rig(town, "bench", str(src))
    return town


def first_frame(beads: int, work: Path) -> None:
    from gastown_tui.town.ledgers import rig_ledger

    town = make_town(work / "ff", "bigtown")
    ledger = rig_ledger(town, "bench")
    records = ({"id": f"{ledger.prefix}-b{i:05d}", "title": f"Bead number {i} with a realistic title",
                "description": "Some words about the work.\n" * 3, "priority": i % 5,
                "status": "closed" if i % 3 == 0 else "open"} for i in range(beads))
    count = ledger.bulk_create(records, actor="bench")
    total = sum(len(l.all()) for l in __import__("gastown_tui.town.ledgers", fromlist=["all_ledgers"]).all_ledgers(town))

    ref = work / "ref_app.py"
    ref.write_text("from textual.app import App\nfrom textual.widgets import Static\n"
                   "class A(App):\n    def compose(self):\n        yield Static('REFERENCE-READY')\nA().run()\n")
    runs = []
    for _ in range(3):
        t = Terminal([sys.executable, str(ref)], work, env_for())
        ready = t.wait(lambda ls: any("REFERENCE-READY" in l for l in ls), 20, "the reference app")
        runs.append(ready - t.started)
        t.close()
    reference = statistics.median(runs)

    frames, loaded = [], []
    for _ in range(3):
        t = Terminal([str(GASTOWN), "--no-agents"], town.root, env_for())
        drawn = t.wait(lambda ls: any("Agents" in l for l in ls) and any("Activity" in l for l in ls), 30,
                       "the first frame")
        ready = t.wait(lambda ls: "bigtown" in ls[0], 30, "the town in the header")
        frames.append(drawn - t.started)
        loaded.append(ready - t.started)
        t.close()
    ff, ld = statistics.median(frames), statistics.median(loaded)
    print(f"first frame: town with {total} beads ({count} bulk-created): first frame {ff * 1000:.0f} ms "
          f"(target <= 1000 ms), town loaded {ld * 1000:.0f} ms; minimal Textual app {reference * 1000:.0f} ms "
          f"(first frame = {ff / reference:.2f}x the minimal app)")


def busy_town(agents: int, work: Path):
    """A town whose agents all run a program that prints ~20 lines a second; `agents` polecats are slung."""
    import json

    from gastown_tui.town.ledgers import rig_ledger
    from gastown_tui.town.sling import sling

    town = make_town(work / "kr", "busytown")
    settings = json.loads(town.settings_path.read_text()) if town.settings_path.exists() else {}
    settings.setdefault("agents", {})["busy"] = {"argv": [sys.executable, "-c", BUSY], "beacon": "none",
                                                 "stuck_after": 3600}
    settings["role_agents"] = {role: "busy" for role in
                               ("mayor", "deacon", "boot", "witness", "refinery", "polecat", "crew")}
    town.settings_path.parent.mkdir(parents=True, exist_ok=True)
    town.settings_path.write_text(json.dumps(settings, indent=2))
    ledger = rig_ledger(town, "bench")
    for i in range(agents):  # each slung bead gets its own polecat; GUPP starts them all
        bead = ledger.create(f"Busy work {i}", actor="bench").id
        sling(town, bead, "bench", no_convoy=True, actor="bench")
    return town


def percentiles(samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    return f"median {statistics.median(samples):.1f} ms, p95 {p95:.1f} ms (target <= 50 ms), max {samples[-1]:.1f} ms"


ECHO_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # the busy agents print only lower case and digits


def pane_content(ls: list[str]) -> str:
    """The text inside the focused pane's heavy border (`┏━ … ┓` … `┗━ … ┛`)."""
    left, right = ls[1].find("┏"), ls[1].find("┓")
    if left < 0 or right < 0:
        return ""
    rows = []
    for line in ls[2:]:
        if line[left:left + 1] == "┗":
            break
        rows.append(line[left + 1:right])
    return "\n".join(rows)


def echo_reaction(t: "Terminal", echoes: int) -> list[float]:
    """Types into the focused agent's pane; each letter is timed until its echo shows in the pane."""
    for _ in range(60):  # town roles may have no session here: on to a polecat
        if "polecats/" in t.lines()[1]:
            break
        title = t.lines()[1]
        t.child.send("n")
        t.wait(lambda ls: ls[1] != title, 5, "the next agent")
    t.child.send("\r")  # town.focus_pane
    t.wait(lambda ls: "┏" in ls[1], 10, "the pane to take the keyboard")
    samples = []
    for i in range(echoes):
        letter = ECHO_LETTERS[i % len(ECHO_LETTERS)]
        before = pane_content(t.lines()).count(letter)
        t.child.send(letter)
        t0 = time.perf_counter()
        try:
            t1 = t.wait(lambda ls: pane_content(ls).count(letter) > before, 5, "the echo to show")
        except SystemExit:
            continue
        samples.append((t1 - t0) * 1000)
        time.sleep(0.1)  # a letter scrolls off in ~2 s: each is back only after the alphabet
    t.child.sendcontrol("b")  # prefix, then d: the keyboard goes back to the app (ctrl+q would reach the agent)
    t.child.send("d")
    t.wait(lambda ls: "┏" not in ls[1], 10, "the pane to give the keyboard back")
    return samples


def key_reaction(agents: int, presses: int, work: Path, echoes: int = 40) -> None:
    town = busy_town(agents, work)
    t = Terminal([str(GASTOWN), "app", "--no-server"], town.root, env_for())  # the single-process app
    t.wait(lambda ls: "busytown" in ls[0], 60, "the town")
    end = time.monotonic() + 120
    while len(agent_processes(town.root)) < agents and time.monotonic() < end:
        time.sleep(0.5)
    busy = len(agent_processes(town.root))
    if busy < agents:
        print(f"key reaction: only {busy} of {agents} agents running after 120 s; measuring anyway")
    time.sleep(2)
    import re

    def centre_number(ls) -> int | None:
        """The focused agent's number in the centre pane's title (`╭─ 7 ● bench/polecats/x ─`)."""
        m = re.search(r"╮╭─ (\d+) ", ls[1])
        return int(m.group(1)) if m else None

    total = int(re.search(r"(\d+) agents", t.lines()[0]).group(1))
    load_before = os.getloadavg()[0]
    samples, missed = [], 0
    for i in range(presses):
        before = centre_number(t.lines())
        key = "n" if i % 4 != 3 else "p"
        expected = before % total + 1 if key == "n" else (before - 2) % total + 1
        t.child.send(key)
        t0 = time.perf_counter()
        try:
            t1 = t.wait(lambda ls: centre_number(ls) == expected, 5, "the switch to show")
        except SystemExit:
            missed += 1
            continue
        samples.append((t1 - t0) * 1000)
        time.sleep(0.05)
    if missed:
        print(f"key reaction: {missed} presses showed no switch within 5 s (not counted)")
    load_after = os.getloadavg()[0]
    typed = echo_reaction(t, echoes) if echoes else []
    load_end = os.getloadavg()[0]
    t.close()
    print(f"key reaction: {busy} busy agents (each ~20 lines/s), {presses} presses: {percentiles(samples)}; "
          f"load average {load_before:.1f} -> {load_after:.1f} on {os.cpu_count()} CPUs")
    if echoes:
        lost = f" ({echoes - len(typed)} showed no echo within 5 s, not counted)" if len(typed) < echoes else ""
        print(f"key reaction, typing into the focused pane: {len(typed)} letters echoed{lost}: {percentiles(typed)}; "
              f"load average {load_end:.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beads", type=int, default=10_000)
    parser.add_argument("--agents", type=int, default=30)
    parser.add_argument("--presses", type=int, default=60)
    parser.add_argument("--echoes", type=int, default=40, help="letters typed into the focused pane (0: none)")
    parser.add_argument("--only", choices=("first-frame", "key-reaction"))
    args = parser.parse_args()
    os.environ.setdefault("GIT_AUTHOR_NAME", "bench")
    os.environ.setdefault("GIT_AUTHOR_EMAIL", "bench@example.invalid")
    os.environ.setdefault("GIT_COMMITTER_NAME", "bench")
    os.environ.setdefault("GIT_COMMITTER_EMAIL", "bench@example.invalid")
    work = Path(tempfile.mkdtemp(prefix="gastown-bench-app-"))
    try:
        if args.only in (None, "first-frame"):
            first_frame(args.beads, work)
        if args.only in (None, "key-reaction"):
            key_reaction(args.agents, args.presses, work, args.echoes)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
