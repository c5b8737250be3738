"""`gastown demo hanoi`: MAKER's Towers of Hanoi, worked to the end by a simulated polecat.

    build_hanoi_town(DIR, discs)   a town, a rig, a bead with a `towers-of-hanoi` wisp attached,
                                   slung to a polecat (DIR/hanoi.json records the ids)
    work(...)                      the simulated agent: `gt mol next`, move the disc in its worktree's
                                   hanoi-moves.txt, `gt mol done`; until the molecule is complete
    check_run(...)                 replays every move from the file against the molecule

The agent keeps nothing in memory across steps that it could not read back: where it is comes
from the molecule (`gt mol next`), what it already did from its file. A move written whose
`gt mol done` was lost (killed before the close was synced) is recognised by its step index
in the file and not made twice.

Each step goes through one function, `gt(argv) -> stdout`: here `in_process`, which runs the
`gt mol` command in this process; a thin client of the town server replaces it with one call
over its connection, and nothing else changes.
"""
from __future__ import annotations

import json
import os
import re
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Callable

from gastown_tui.beads.ledger import RawLedger
from gastown_tui.beads.wispsteps import flush_all
from gastown_tui.commands import mol
from gastown_tui.demo.sample import gate_command, write_sample_project
from gastown_tui.errors import UserError
from gastown_tui.meow import wisp
from gastown_tui.meow.molecule import iter_step_records, lazy_steps, step_records_of
from gastown_tui.meow.tracking import progress
from gastown_tui.town import molecules
from gastown_tui.town.install import install_town
from gastown_tui.town.jsonfile import read_json, write_json
from gastown_tui.town.ledgers import open_ledger
from gastown_tui.town.rigs import add_rig, get_rig
from gastown_tui.town.sling import sling

RECORD = "hanoi.json"
MOVES = "hanoi-moves.txt"
RIG = "towers"
MOVE_RE = re.compile(r"^Move disc (\d+) from peg ([ABC]) to peg ([ABC])$")


@dataclass
class HanoiTown:
    root: Path
    town: Path
    rig: str
    bead: str
    molecule: str
    polecat: str
    worktree: Path
    discs: int
    beads_dir: Path

    def to_dict(self) -> dict:
        return {"town": str(self.town), "rig": self.rig, "bead": self.bead, "molecule": self.molecule,
                "polecat": self.polecat, "worktree": str(self.worktree), "discs": self.discs,
                "beads": str(self.beads_dir)}

    @property
    def moves(self) -> Path:
        return self.worktree / MOVES


def load_hanoi_town(root: Path) -> HanoiTown:
    path = Path(root) / RECORD
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        return HanoiTown(Path(root), Path(d["town"]), d["rig"], d["bead"], d["molecule"], d["polecat"],
                         Path(d["worktree"]), int(d["discs"]), Path(d["beads"]))
    except FileNotFoundError:
        raise UserError(f"{path}: not found ({root} holds no Hanoi demo)") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path}: not a Hanoi demo record ({exc})") from None


AGENT = "hanoi-sim"


def agent_preset(root: Path) -> dict:
    """The town's agent preset whose program is the Hanoi sim (`python -m gastown_tui.demo.hanoi DIR --stay`)."""
    import sys

    return {"description": "the Hanoi demo's simulated agent (no model): gt mol next, move, gt mol done",
            "argv": [sys.executable, "-m", "gastown_tui.demo.hanoi", str(root), "--stay"], "beacon": "none",
            "process_names": ["python", "python3"], "ready_timeout": 30.0, "stuck_after": 600.0}


def build_hanoi_town(root: Path, discs: int) -> HanoiTown:
    """A town with one rig; a bead carrying a `towers-of-hanoi` wisp, slung to a new polecat."""
    if discs < 1 or discs > 22:
        raise UserError(f"--discs must be from 1 to 22, got {discs}")
    root = Path(root).resolve()
    if root.exists() and any(root.iterdir()):
        raise UserError(f"{root} is not empty: give --dir a new or empty folder (or one holding a Hanoi demo)")
    root.mkdir(parents=True, exist_ok=True)
    project = write_sample_project(root / "project")
    town = install_town(root / "town", name="hanoi")
    settings = read_json(town.settings_path, default={}) or {}
    # the polecat's agent is this module's sim: in the app its session runs in the polecat's pane
    settings.setdefault("agents", {})[AGENT] = agent_preset(root)
    settings.setdefault("role_agents", {})["polecat"] = AGENT
    write_json(town.settings_path, settings)
    add_rig(town, RIG, str(project), gate=gate_command())
    rig = get_rig(town, RIG)
    ledger = open_ledger(rig.beads_dir)
    bead = ledger.create(f"Move a tower of {discs} discs from peg A to peg C",
                         description="MAKER's benchmark: every move is one step of the attached wisp.",
                         actor="overseer", labels=["demo", "hanoi"]).id
    root_id = wisp(ledger, "towers-of-hanoi", {"discs": str(discs)}, molecules.search_path(town, rig.path),
                   on=bead, actor="overseer", lazy=True)   # steps made on demand, even for a small tower
    # the bead already carries its wisp: slinging with the same formula keeps it (no polecat-work poured)
    result = sling(town, bead, RIG, formula="towers-of-hanoi", actor="overseer", no_convoy=True)
    worktree = Path(result.worktree) if result.worktree else root / "worktree"
    worktree.mkdir(parents=True, exist_ok=True)
    demo = HanoiTown(root, town.root, RIG, bead, root_id, result.agent, worktree, discs, Path(rig.beads_dir))
    tmp = root / f".{RECORD}.tmp"
    tmp.write_text(json.dumps(demo.to_dict(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(root / RECORD)
    return demo


# ---- the simulated agent ---------------------------------------------------------------------
def in_process(argv: list[str]) -> str:
    """Runs one `gt` command (today: `gt mol ...`) in this process; returns what it printed."""
    if not argv or argv[0] != "mol":
        raise UserError(f"the in-process gt runs only `gt mol ...`, not {argv[:1]}")
    out = StringIO()
    kept, mol.KEEP_OPEN = mol.KEEP_OPEN, True      # ledgers stay open between this caller's calls only
    try:
        with redirect_stdout(out):
            rc = mol.main(argv[1:], "gt mol")
    finally:
        mol.KEEP_OPEN = kept
    if rc:
        raise UserError(f"gt {' '.join(argv)} exited {rc}")
    return out.getvalue()


def last_move(path: Path) -> int:
    """The step index of the last move in the file (-1 if none); a torn last line is cut off."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return -1
    if size == 0:
        return -1
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 4096))
        tail = fh.read()
    if not tail.endswith(b"\n"):
        keep = size - len(tail) + tail.rfind(b"\n") + 1
        os.truncate(path, keep)
        tail = tail[: tail.rfind(b"\n") + 1]
    lines = tail.rstrip(b"\n").split(b"\n")
    if not lines or not lines[-1]:
        return -1
    return int(lines[-1].split(b" ", 1)[0])


@dataclass
class WorkReport:
    steps_closed: int = 0
    moves_written: int = 0
    seconds: float = 0.0


def work(demo: HanoiTown, gt: Callable[[list[str]], str] = in_process, *, log=None,
         stop_after: int | None = None) -> WorkReport:
    """Works the polecat's molecule to its end (or for `stop_after` steps), one step per iteration."""
    # The in-process gt reads the ledger and the actor from the environment, as an agent's gt does; they
    # are put back afterwards so a caller's process (a test run, the app) is left as it was.
    saved = {k: os.environ.get(k) for k in ("BEADS_DIR", "BD_ACTOR")}
    os.environ["BEADS_DIR"] = str(demo.beads_dir)
    os.environ.setdefault("BD_ACTOR", demo.polecat)
    try:
        return _work(demo, gt, log, stop_after)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _work(demo: HanoiTown, gt: Callable[[list[str]], str], log, stop_after: int | None) -> WorkReport:
    import time

    report = WorkReport()
    written = last_move(demo.moves)
    fd = os.open(demo.moves, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    start = last_log = time.monotonic()
    try:
        while stop_after is None or report.steps_closed < stop_after:
            step = json.loads(gt(["mol", "next", demo.molecule, "--json"]))
            if step is None:
                break
            index = int(step["source_location"][6:-1])
            if index > written:                 # not yet moved (a move whose close was lost is not redone)
                m = MOVE_RE.match(step["title"])
                if m is None:
                    raise UserError(f"step {step['id']}: {step['title']!r} is not a move")
                os.write(fd, f"{index} {step['id']} {m.group(1)} {m.group(2)} {m.group(3)}\n".encode())
                written = index
                report.moves_written += 1
            gt(["mol", "done", step["id"], "--json"])
            report.steps_closed += 1
            if log is not None and time.monotonic() - last_log >= 5:
                last_log = time.monotonic()
                log(f"step {index + 1:,}: {step['title']} "
                    f"({report.steps_closed / (last_log - start):,.0f} steps/s this run)")
    finally:
        os.close(fd)
        flush_all()
    report.seconds = time.monotonic() - start
    return report


# ---- the checker -------------------------------------------------------------------------------
@dataclass
class HanoiCheck:
    discs: int
    steps: int = 0
    moves: int = 0
    closed: int = 0
    closes_logged: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.moves == self.steps == self.closed == 2 ** self.discs - 1

    def summary(self) -> str:
        if self.ok:
            logged = (f", each closed once ({self.closes_logged:,} closes logged)"
                      if self.closes_logged is not None else "")
            return (f"checked: {self.moves:,} moves from the worktree's file match the molecule's {self.steps:,} "
                    f"steps one for one, every move legal, all {self.closed:,} steps closed{logged}, tower solved")
        return "check FAILED: " + "; ".join(self.problems)


def check_run(demo: HanoiTown) -> HanoiCheck:
    """Replays the moves file against the molecule; stops at the first illegal, missing or extra move."""
    check = HanoiCheck(demo.discs)
    ledger = RawLedger.open(demo.beads_dir)
    root = ledger.raw_find(demo.molecule)
    if root is None:
        check.problems.append(f"molecule {demo.molecule} is gone (burned?)")
        return check
    if lazy_steps(ledger, root) is not None:
        records = iter_step_records(ledger, root)
    else:
        records = iter(step_records_of(ledger, demo.molecule))
    pegs = {"A": list(range(demo.discs, 0, -1)), "B": [], "C": []}
    previous = None
    try:
        fh = open(demo.moves, encoding="utf-8")
    except FileNotFoundError:
        fh = StringIO("")
    with fh:
        for index, rec in enumerate(records):
            check.steps += 1
            if rec.get("status") == "closed":
                check.closed += 1
            else:
                check.problems.append(f"step {index + 1} ({rec['id']}) is not closed")
            needs = [d["depends_on_id"] for d in rec.get("dependencies") or () if d.get("type") == "blocks"]
            if needs != ([previous] if previous else []):
                check.problems.append(f"step {index + 1} ({rec['id']}) needs {needs}, not the step before it")
            previous = rec["id"]
            line = fh.readline()
            if not line:
                check.problems.append(f"move {index + 1} ({rec['id']}: {rec['title']}) is missing from {demo.moves}")
                return check
            parts = line.split()
            want = MOVE_RE.match(rec.get("title", ""))
            if len(parts) != 5 or parts[0] != str(index) or parts[1] != rec["id"] or want is None or \
                    tuple(parts[2:]) != want.groups():
                check.problems.append(f"{demo.moves} line {index + 1} is {line.strip()!r}; the molecule's step "
                                      f"{index + 1} is {rec['id']}: {rec.get('title')!r}")
                return check
            disc, src, dst = int(parts[2]), parts[3], parts[4]
            if not pegs[src] or pegs[src][-1] != disc:
                check.problems.append(f"move {index + 1}: disc {disc} is not on top of peg {src}")
                return check
            if pegs[dst] and pegs[dst][-1] < disc:
                check.problems.append(f"move {index + 1}: disc {disc} onto smaller disc {pegs[dst][-1]}")
                return check
            pegs[dst].append(pegs[src].pop())
            check.moves += 1
            if check.problems:
                return check
        extra = fh.readline()
        if extra:
            check.problems.append(f"{demo.moves} has a move after the molecule's last step: {extra.strip()!r}")
    if pegs["C"] != list(range(demo.discs, 0, -1)):
        check.problems.append(f"not solved: peg C holds {len(pegs['C'])} of {demo.discs} discs")
    if not progress(ledger, demo.molecule).complete:
        check.problems.append("the molecule is not complete")
    steps = lazy_steps(ledger, root)
    if steps is not None:                   # every close the log records, counted: none twice
        recorded = 0
        with open(steps.log.path, "rb") as fh:
            for line in fh:
                first, last = line.split(b" ", 2)[:2]
                recorded += int(last) - int(first) + 1
        check.closes_logged = recorded
        if recorded != check.steps:
            check.problems.append(f"the close log records {recorded:,} closes for {check.steps:,} steps")
    return check


# ---- `gastown demo hanoi` ------------------------------------------------------------------------
def build_parser(prog: str):
    import argparse

    p = argparse.ArgumentParser(prog=prog, description="A polecat works MAKER's Towers of Hanoi, one wisp step "
                                                       "per move, and the checker replays every move.")
    p.add_argument("--discs", type=int, default=20, help="tower size (default 20: 1,048,575 moves)")
    p.add_argument("--dir", type=Path, help="folder for the demo (new or empty; one holding a Hanoi demo continues it)")
    p.add_argument("--headless", action="store_true", help="no app: work it to the end, then check it")
    p.add_argument("--chaos", action="store_true", help="kill -9 and restart the simulated agent at random")
    p.add_argument("--seed", type=int, default=7, help="random seed for --chaos (default 7)")
    p.add_argument("--max-gap", type=float, default=30.0, help="--chaos strikes within this many seconds (default 30)")
    return p


def main(argv: list[str], prog: str = "gastown demo hanoi", open_app: Callable[[Path], int] | None = None) -> int:
    """`gastown demo hanoi`. OPEN_APP(town_root) shows the town in the app (the command passes the app's
    attach: this module stays below the app)."""
    import sys
    import tempfile
    import time

    args = build_parser(prog).parse_args(argv)
    root = args.dir or Path(tempfile.mkdtemp(prefix="gastown-hanoi-"))
    if (Path(root) / RECORD).exists():
        demo = load_hanoi_town(root)
        print(f"continuing the Hanoi demo in {demo.root} ({demo.discs} discs)", flush=True)
    else:
        started = time.monotonic()
        demo = build_hanoi_town(root, args.discs)
        print(f"Hanoi demo town: {demo.town}; {demo.polecat} has {demo.bead} with wisp {demo.molecule} "
              f"({2 ** demo.discs - 1:,} steps), made in {time.monotonic() - started:.1f}s", flush=True)
    if not args.headless:
        if open_app is None:
            raise UserError("no app to open here: run `gastown demo hanoi`, or pass --headless")
        return int(open_app(demo.town) or 0)
    started = time.monotonic()
    if args.chaos:
        strikes = run_with_chaos(demo, args.seed, args.max_gap, log=lambda line: print(line, flush=True))
    else:
        report = work(demo, log=lambda line: print(line, flush=True))
        strikes = None
    seconds = time.monotonic() - started
    check = check_run(demo)
    print(f"worked in {seconds:.1f}s" + (f"; chaos: {strikes} kill(s)" if strikes is not None else
                                          f" ({report.steps_closed:,} steps, "
                                          f"{report.steps_closed / max(seconds, 1e-9):,.0f} steps/s)"))
    print(check.summary(), flush=True)
    if not check.ok:
        print(check.summary(), file=sys.stderr)
    return 0 if check.ok else 1


def worker_command(demo: HanoiTown) -> list[str]:
    import sys

    return [sys.executable, "-m", "gastown_tui.demo.hanoi", str(demo.root)]


def run_with_chaos(demo: HanoiTown, seed: int, max_gap: float, log) -> int:
    """Runs the sim as a child process, SIGKILLing and restarting it at seeded random times."""
    import random
    import signal
    import subprocess

    rng = random.Random(seed)
    strikes = 0
    while True:
        proc = subprocess.Popen(worker_command(demo), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        gap = rng.uniform(0.5, max_gap)
        try:
            out, _ = proc.communicate(timeout=gap)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            strikes += 1
            log(f"chaos: kill -9 of the sim (pid {proc.pid}) after {gap:.1f}s; at move "
                f"{last_move(demo.moves) + 1:,} of {2 ** demo.discs - 1:,}; restarting")
            continue
        if proc.returncode != 0:
            raise UserError(f"the Hanoi sim failed ({proc.returncode}):\n{out[-2000:]}")
        return strikes



def _agent_main(argv: list[str]) -> None:
    """The sim as a program: `python -m gastown_tui.demo.hanoi DEMO_DIR [--stay]`.

    --stay (as the town's agent): after the last step, check the run, print the verdict and stay
    idle until the session ends, as an agent waiting for work does."""
    import sys
    import time

    demo = load_hanoi_town(Path(argv[0]))
    report = work(demo, log=lambda line: print(line, flush=True))
    if "--stay" in argv:
        print(f"worked {report.steps_closed:,} steps in {report.seconds:.1f}s; checking every move ...", flush=True)
        print(check_run(demo).summary(), flush=True)
        print("· idle", flush=True)
        while True:
            if not sys.stdin.read(1):
                time.sleep(3600)


if __name__ == "__main__":
    import sys

    _agent_main(sys.argv[1:])
